"""Calibrated confidence (matching/calibration.py): accuracy by score band from labelled pairs."""

import pytest

from matching import calibration
from matching.models import MatchReview

# A fixture of labelled pairs: (score, right). 0.40-0.45: 1 of 4; 0.45-0.50: 0 of 2 (violates
# monotonicity, pooled with the band below: 1 of 6); 0.60-0.65: 2 of 4; 0.70+: 5 of 5.
PAIRS = (
    [[0.41, 1], [0.42, 0], [0.43, 0], [0.44, 0]]
    + [[0.46, 0], [0.47, 0]]
    + [[0.61, 1], [0.62, 1], [0.63, 0], [0.64, 0]]
    + [[0.71, 1], [0.75, 1], [0.8, 1], [0.85, 1], [0.9, 1]]
    + [[0.1, 0]] * 10
)


def band(bands, low):
    return next(b for b in bands if b.low == pytest.approx(low))


def test_bands_count_right_pairs_and_pool_adjacent_violators():
    bands = calibration.bands(PAIRS)
    assert (band(bands, 0.40).pairs, band(bands, 0.40).right) == (4, 1)
    assert band(bands, 0.40).precision == pytest.approx(1 / 6) == band(bands, 0.45).precision
    assert band(bands, 0.60).precision == pytest.approx(0.5)
    assert band(bands, 0.70).precision == 1.0
    assert band(bands, 0.0).precision == 0.0
    # empty bands take the estimate below them; the estimate never falls as the score rises
    assert band(bands, 0.50).precision == band(bands, 0.55).precision == pytest.approx(1 / 6)
    values = [b.precision for b in bands]
    assert values == sorted(values)


def test_a_score_reads_as_likely_possible_or_unlikely_with_its_estimate():
    cal = calibration.Calibration(None)
    cal.pairs, cal.bands = PAIRS, calibration.bands(PAIRS)
    assert cal.confidence(0.8).label == "likely" and cal.confidence(0.8).precision == 1.0
    assert cal.confidence(0.62).label == "possible"
    assert cal.confidence(0.42).label == "unlikely"
    assert cal.confidence(0.62).text == "possible (≈ 50 % right)"


def test_reviews_override_the_estimate():
    cal = calibration.Calibration(None)
    cal.pairs, cal.bands = PAIRS, calibration.bands(PAIRS)
    confirmed = MatchReview(decision=MatchReview.Decision.CONFIRM)
    rejected = MatchReview(decision=MatchReview.Decision.REJECT)
    assert cal.confidence(0.1, confirmed).label == "confirmed"
    assert cal.confidence(0.95, rejected).label == "rejected"


def test_precision_and_recall_at_a_threshold():
    precision, recall = calibration.at_threshold(PAIRS, 0.6)
    assert precision == pytest.approx(7 / 9) and recall == pytest.approx(7 / 8)
    assert calibration.at_threshold([], 0.5) == (None, None)


def test_too_few_pairs_give_no_estimate():
    cal = calibration.Calibration(None)
    assert not cal and cal.confidence(0.9) is None

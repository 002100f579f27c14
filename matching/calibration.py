"""Calibrated confidence: what a match score says about how likely the match is right.

Per framework, labelled capability × statement pairs are scored with the adopted ranking
(``matching/ranking.py``) and kept (``MatchCalibration.pairs``). Two sources:

- the hand-labelled set (``tests/matching/data/ifate_labelled.csv``, IfATE only): each of its
  capabilities with its best duty (``LABELLED_TOP`` = 1: the pages show a capability's best match);
  the pair is right when the duty is the labelled one (or a listed equivalent), wrong otherwise —
  and the best duty of a capability labelled "no provision" is always wrong. (Counting the ten
  best duties instead made every unlabelled but related duty "wrong": precision 0.95 above 0.70,
  0.17 at 0.60–0.65 — an estimate of "is this the one labelled duty", not "is this right".)
- educators' reviews (``MatchReview``) of pairs of that framework: a confirmed pair is right, a
  rejected one wrong. A review replaces the labelled set's verdict on the same pair.

Scores are grouped in bands (``BAND_EDGES``); each band's precision is the share of right pairs,
made non-decreasing with the score by pooling adjacent bands that violate it (pool-adjacent-
violators). A match then reads as "likely" (estimated precision ≥ ``LIKELY``), "possible"
(≥ ``POSSIBLE``) or "unlikely" — except that a confirmed match is "confirmed" and a rejected one
"rejected", whatever its score. ``at_threshold`` gives the precision and recall of "score ≥ t" over
the same pairs: what the threshold page explains.

``python manage.py calibrate_matching`` recomputes it; ``load_demo`` does for IfATE.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from matching import embeddings, ranking, scoring
from matching.models import Framework, FrameworkVersion, MatchCalibration, MatchReview, Statement

LABELLED_SET = Path(settings.BASE_DIR) / "tests" / "matching" / "data" / "ifate_labelled.csv"
LABELLED_TOP = 1
BAND_EDGES = (0.0, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 1.0001)
LIKELY = 0.75
POSSIBLE = 0.35
MIN_PAIRS = 20  # below this, no estimate is shown

LIKELY_LABEL, POSSIBLE_LABEL, UNLIKELY_LABEL = "likely", "possible", "unlikely"
CONFIRMED_LABEL, REJECTED_LABEL = "confirmed", "rejected"


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    pairs: int
    right: int
    precision: float  # after pooling (monotone in the score)


@dataclass(frozen=True)
class Confidence:
    label: str  # likely / possible / unlikely / confirmed / rejected
    precision: float | None  # the estimate, None for a reviewed pair

    @property
    def text(self) -> str:
        if self.precision is None:
            return self.label
        return f"{self.label} (≈ {self.precision * 100:.0f} % right)"


def bands(pairs: Sequence[Sequence[float]], edges: Sequence[float] = BAND_EDGES) -> list[Band]:
    """Accuracy by score band, made non-decreasing by pool-adjacent-violators."""
    scores = np.array([p[0] for p in pairs], dtype=np.float64)
    right = np.array([p[1] for p in pairs], dtype=np.float64)
    raw = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (scores >= low) & (scores < high)
        raw.append([low, high, int(inside.sum()), int(right[inside].sum())])
    # pool adjacent violators over the non-empty bands
    blocks = [[i] for i, b in enumerate(raw) if b[2]]
    merged: list[list[int]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and _ratio(raw, merged[-2]) > _ratio(raw, merged[-1]):
            last = merged.pop()
            merged[-1] = merged[-1] + last
    precision = [None] * len(raw)
    for block in merged:
        value = _ratio(raw, block)
        for i in block:
            precision[i] = value
    # empty bands take the estimate of the nearest band below (or above, at the bottom)
    for i in range(len(raw)):
        if precision[i] is None:
            below = [precision[j] for j in range(i - 1, -1, -1) if precision[j] is not None]
            above = [precision[j] for j in range(i + 1, len(raw)) if precision[j] is not None]
            precision[i] = below[0] if below else (above[0] if above else 0.0)
    return [Band(low, min(high, 1.0), n, r, float(p)) for (low, high, n, r), p in zip(raw, precision, strict=True)]


def _ratio(raw, block) -> float:
    n = sum(raw[i][2] for i in block)
    return sum(raw[i][3] for i in block) / n if n else 0.0


def at_threshold(pairs: Sequence[Sequence[float]], threshold: float) -> tuple[float | None, float | None]:
    """(precision, recall) of "score ≥ threshold" over the labelled pairs."""
    if not pairs:
        return None, None
    scores = np.array([p[0] for p in pairs])
    right = np.array([p[1] for p in pairs], dtype=bool)
    above = scores >= threshold - 1e-6
    precision = float(right[above].mean()) if above.any() else None
    recall = float((above & right).sum() / right.sum()) if right.any() else None
    return precision, recall


class Calibration:
    """A framework's calibration as pages read it."""

    def __init__(self, record: MatchCalibration | None):
        self.record = record
        self.pairs = record.pairs if record else []
        self.bands = bands(self.pairs) if len(self.pairs) >= MIN_PAIRS else []

    def __bool__(self) -> bool:
        return bool(self.bands)

    @property
    def sources(self) -> dict:
        return self.record.sources if self.record else {}

    def precision(self, score: float) -> float | None:
        for band in self.bands:
            if band.low <= score < band.high or (band.high >= 1.0 and score >= band.low):
                return band.precision
        return None

    def confidence(self, score: float | None, review: MatchReview | None = None) -> Confidence | None:
        if review is not None:
            if review.decision == MatchReview.Decision.CONFIRM:
                return Confidence(CONFIRMED_LABEL, None)
            return Confidence(REJECTED_LABEL, None)
        if score is None or not self:
            return None
        p = self.precision(score)
        if p is None:
            return None
        label = LIKELY_LABEL if p >= LIKELY else POSSIBLE_LABEL if p >= POSSIBLE else UNLIKELY_LABEL
        return Confidence(label, p)

    def at_threshold(self, threshold: float) -> tuple[float | None, float | None]:
        return at_threshold(self.pairs, threshold)


def for_framework(kind: str) -> Calibration:
    return Calibration(MatchCalibration.objects.filter(framework__kind=kind).first())


def for_version(version: FrameworkVersion) -> Calibration:
    return Calibration(MatchCalibration.objects.filter(framework_id=version.framework_id).first())


# --- computing it -----------------------------------------------------------------------------


def labelled_pairs(version: FrameworkVersion, path: Path = LABELLED_SET) -> dict[tuple[str, int], tuple[float, int]]:
    """{(capability text, statement id): (score, right)} from the hand-labelled set."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    vm = scoring.version_matrix(version)
    if not len(vm.statement_ids):
        return {}
    cands = vm.ranking()
    codes = {}
    for pk, standard_ref, extra in Statement.objects.filter(
        version=version, kind=Statement.Kind.DUTY, standard__isnull=False
    ).values_list("id", "standard__ref", "extra"):
        codes[(standard_ref, (extra or {}).get("code"))] = pk
    index = vm.statement_index()
    texts = [r["capability"] for r in rows]
    scores = ranking.score_all(embeddings.encode(texts), cands)[:, vm.columns]
    out = {}
    for row, values in zip(rows, scores, strict=True):
        right_ids = set()
        if row["standard_ref"]:
            keys = [(row["standard_ref"], row["duty_code"])]
            keys += [tuple(a.split(":")) for a in filter(None, row.get("also", "").split(";"))]
            right_ids = {codes[k] for k in keys if k in codes}
            if not right_ids:
                continue  # the labelled duty is not in this version
        right_columns = {int(vm.columns[index[i]]) for i in right_ids}
        for i in np.argsort(-values, kind="stable")[:LABELLED_TOP]:
            statement_id = int(vm.statement_ids[i])
            right = int(vm.columns[i]) in right_columns
            out[(row["capability"], statement_id)] = (round(float(values[i]), 4), int(right))
    return out


def review_pairs(framework: Framework) -> dict[tuple[str, int], tuple[float, int]]:
    """{(capability text, statement id): (score, confirmed)} from educators' reviews of the
    framework's statements, scored against the statement's own version."""
    reviews = list(
        MatchReview.objects.filter(statement__version__framework=framework).values_list(
            "capability__statement", "statement_id", "statement__version_id", "decision"
        )
    )
    out = {}
    by_version: dict[int, list] = {}
    for review in reviews:
        by_version.setdefault(review[2], []).append(review)
    for version_id, rows in by_version.items():
        vm = scoring.version_matrix(FrameworkVersion.objects.select_related("framework").get(pk=version_id))
        index = vm.statement_index()
        rows = [r for r in rows if r[1] in index]
        if not rows:
            continue
        scores = ranking.score_all(embeddings.encode([r[0] for r in rows]), vm.ranking())
        for (text, statement_id, _v, decision), values in zip(rows, scores, strict=True):
            score = float(values[int(vm.columns[index[statement_id]])])
            out[(text, statement_id)] = (round(score, 4), int(decision == MatchReview.Decision.CONFIRM))
    return out


def recompute(kind: str, *, labelled: Path | None = LABELLED_SET) -> MatchCalibration | None:
    """Recompute a framework's calibration from the labelled set (IfATE) and its reviews."""
    framework = Framework.objects.filter(kind=kind).first()
    if framework is None:
        return None
    version = framework.latest_version()
    pairs: dict = {}
    sources = {"labelled set": 0, "reviews": 0}
    if kind == Framework.Kind.IFATE and labelled is not None and version is not None:
        pairs.update(labelled_pairs(version, labelled))
        sources["labelled set"] = len(pairs)
    reviewed = review_pairs(framework)
    sources["reviews"] = len(reviewed)
    sources["confirmed"] = sum(r for _, r in reviewed.values())
    pairs.update(reviewed)  # a review wins over the labelled set's verdict
    values = sorted([list(v) for v in pairs.values()])
    record, _ = MatchCalibration.objects.update_or_create(
        framework=framework,
        defaults={"ranking": ranking.NAME, "pairs": values, "sources": sources, "computed_at": timezone.now()},
    )
    return record

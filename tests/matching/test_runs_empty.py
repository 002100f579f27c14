"""The matching page before any run says what a run needs and who starts it (issue 13, item 18)."""

import pytest
from django.urls import reverse

from tests.findings.test_report_wording import page_text
from tests.matching.conftest import make_capability

pytestmark = pytest.mark.django_db


def _runs(personas, user):
    return personas.client_for(user).get(reverse("matching:runs", args=["cycle-a"]))


def test_with_nothing_to_match_the_convener_is_sent_to_the_capture_board(personas):
    response = _runs(personas, personas.convener)
    assert "Nothing to match yet." in page_text(response)
    assert 'href="/cycles/cycle-a/capture/">Review the capabilities on the capture board' in response.content.decode()
    educator = page_text(_runs(personas, personas.educator))
    assert "Nothing to match yet." in educator and "The convener accepts them on the capture board." in educator


def test_with_capabilities_and_no_run_the_page_says_who_starts_one(personas):
    make_capability(personas.cycle, "C01", "Keep laboratory instruments calibrated and maintained")
    assert "No match run yet: start the first one with the form" in page_text(_runs(personas, personas.convener))
    observer = page_text(_runs(personas, personas.observer))
    assert "No match run yet: the convener starts the runs, and their results appear here." in observer

"""Empty solution pages say why and lead to the step that fills them (issue 13, item 18)."""

import pytest
from django.urls import reverse

from cycles.models import Cycle, Phase
from tests.cycles.factories import SolutionFactory
from tests.findings.test_report_wording import page_text

pytestmark = pytest.mark.django_db


def _text(personas, user, name):
    return page_text(personas.client_for(user).get(reverse(name, args=["cycle-a"])))


def test_during_consider_the_empty_solutions_page_asks_for_the_first_proposal(personas):
    text = _text(personas, personas.technologist, "cycles:solutions")
    assert "No solution has been proposed yet." in text and "Propose the first one with the form" in text
    observer = _text(personas, personas.observer, "cycles:solutions")
    assert "The convener, technologists, employers and educators propose them during Consider." in observer


def test_the_rating_page_without_solutions_links_to_the_solutions_page(personas):
    response = personas.client_for(personas.employer).get(reverse("cycles:solution_rate", args=["cycle-a"]))
    assert 'on <a href="/cycles/cycle-a/solutions/">the solutions page</a>' in response.content.decode()


def test_after_consider_without_solutions_the_convener_is_told_to_reopen_consider(personas):
    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.IDENTIFY)
    convener = personas.client_for(personas.convener).get(reverse("cycles:solution_rate", args=["cycle-a"]))
    assert "No solution was proposed during Consider." in page_text(convener)
    assert 'reopen Consider from <a href="/cycles/cycle-a/">the cycle' in convener.content.decode()
    employer = _text(personas, personas.employer, "cycles:solution_results")
    assert "The convener can reopen Consider to collect them." in employer


def test_results_without_ratings_during_identify_link_raters_to_the_rating_form(personas):
    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.IDENTIFY)
    SolutionFactory(cycle=personas.cycle)
    response = personas.client_for(personas.educator).get(reverse("cycles:solution_results", args=["cycle-a"]))
    assert "No ratings yet: members rate the solutions now, during Identify." in page_text(response)
    assert 'href="/cycles/cycle-a/solutions/rate/">Rate the solutions' in response.content.decode()
    observer = personas.client_for(personas.observer).get(reverse("cycles:solution_results", args=["cycle-a"]))
    assert "Rate the solutions" not in observer.content.decode()

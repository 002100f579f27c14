"""The match form starts at the cycle's framework (issue 13, item 16): Skills England/IfATE for a
first run, else the framework of the cycle's last run, at its newest version."""

import re

import pytest
from django.urls import reverse

from matching.models import MatchRun
from tests.matching.conftest import make_framework

pytestmark = pytest.mark.django_db


def _chosen(response) -> tuple[int, str]:
    """The framework version the form shows as chosen: (its id, its label)."""
    html = response.content.decode()
    select = html[
        html.index('name="framework_version"') : html.index("</select>", html.index('name="framework_version"'))
    ]
    option = re.search(r'<option value="(\d+)"[^>]*selected[^>]*>([^<]+)</option>', select)
    return int(option.group(1)), option.group(2)


def _shown(version) -> tuple[int, str]:
    return version.pk, str(version)


@pytest.fixture
def frameworks():
    # Imported in this order so IfATE is neither the first nor the newest import.
    esco = make_framework("esco", [("E1", "Technician", None, ["Calibrate instruments"])], has_levels=False)
    ifate = make_framework("ifate", [("ST1", "Laboratory technician", 3, ["Maintain laboratory equipment"])])
    onet = make_framework("onet", [("O1", "Lab technician", None, ["Keep records of tests"])], has_levels=False)
    return {"esco": esco, "ifate": ifate, "onet": onet}


def test_a_first_run_starts_at_skills_england(personas, frameworks):
    response = personas.client_for(personas.convener).get(reverse("matching:runs", args=["cycle-a"]))
    assert _chosen(response) == _shown(frameworks["ifate"])


def test_after_a_run_against_another_framework_the_form_keeps_that_framework(personas, frameworks):
    MatchRun.objects.create(cycle=personas.cycle, framework_version=frameworks["onet"], threshold=0.6)
    response = personas.client_for(personas.convener).get(reverse("matching:runs", args=["cycle-a"]))
    assert _chosen(response) == _shown(frameworks["onet"])


def test_another_cycles_run_does_not_change_this_cycles_default(personas, frameworks):
    MatchRun.objects.create(cycle=personas.other_cycle, framework_version=frameworks["esco"], threshold=0.6)
    response = personas.client_for(personas.convener).get(reverse("matching:runs", args=["cycle-a"]))
    assert _chosen(response) == _shown(frameworks["ifate"])


def test_the_cycles_framework_is_offered_at_its_newest_version(personas, frameworks):
    MatchRun.objects.create(cycle=personas.cycle, framework_version=frameworks["ifate"], threshold=0.6)
    newer = make_framework("ifate", [("ST2", "Bioprocess technician", 3, ["Run bioreactors"])])
    response = personas.client_for(personas.convener).get(reverse("matching:runs", args=["cycle-a"]))
    assert _chosen(response) == _shown(newer)

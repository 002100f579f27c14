"""A cycle with someone of every kind of contribution (tests/portability's rich cycle), its two
Delphi rounds closed and aggregated, so erasing a person can be checked against real results."""

from __future__ import annotations

import pytest

from accounts.models import Organisation, OrganisationGroup
from tests.portability.fixtures import build_rich_cycle
from workshops.delphi.aggregation import round_aggregate
from workshops.models import Round


@pytest.fixture
def rich(personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    groups = {
        personas.technologist: OrganisationGroup.TECHNOLOGY,
        personas.employer: OrganisationGroup.INDUSTRY,
        personas.educator: OrganisationGroup.SKILLS,
    }
    for person, group in groups.items():
        person.organisation = Organisation.objects.create(name=f"{group.label} Trust", group=group)
        person.save(update_fields=["organisation"])
    cycle = build_rich_cycle(personas)
    Round.objects.filter(cycle=cycle).update(status=Round.Status.CLOSED)
    for rnd in Round.objects.filter(cycle=cycle).order_by("number"):
        round_aggregate(round_id=rnd.pk)
    return cycle

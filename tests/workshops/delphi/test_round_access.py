"""The live round's access check reads one row (core.rows): the same objects as the ORM's."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cycles.access import access_for
from cycles.models import Cycle, Membership, Role
from tests.factories import UserFactory
from tests.workshops.delphi.factories import start_delphi
from workshops.delphi.selectors import default_plan, round_access, round_snapshot
from workshops.models import DelphiPlan, Round

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_members_access_is_what_the_orm_reads_in_one_query(personas):
    delphi = start_delphi(personas.cycle, personas.convener, live=True, allow_cant_judge=True)
    deadline = timezone.now() + timedelta(hours=2)
    Round.objects.filter(pk=delphi.round.pk).update(deadline=deadline)

    with CaptureQueriesContext(connection) as queries:
        view = round_access(user=personas.employer, round_id=delphi.round.pk)
    assert len(queries) == 1

    # Every column converted as the ORM converts it: datetimes (text on SQLite), JSON, booleans.
    assert fields(view.round) == fields(Round.objects.get(pk=delphi.round.pk))
    assert view.round.deadline == deadline
    assert fields(view.round.cycle) == fields(Cycle.objects.get(pk=personas.cycle.pk))
    assert fields(view.plan) == fields(DelphiPlan.objects.get(cycle=personas.cycle))
    assert view.plan.voting_roles == [str(Role.TECHNOLOGIST), str(Role.EMPLOYER)]
    assert view.plan.allow_cant_judge is True
    expected = access_for(personas.employer, personas.cycle)
    assert fields(view.access.membership) == fields(expected.membership)
    assert (view.access.role, view.is_convener, view.can_vote) == (Role.EMPLOYER, False, True)
    # The snapshot built on it is the one a socket gets.
    snapshot = round_snapshot(view=view, user=personas.employer)
    assert (snapshot["round"], snapshot["status"], snapshot["cant_judge_offered"]) == (delphi.round.pk, "open", True)
    assert snapshot["deadline"] == deadline.isoformat()


def test_who_is_turned_away_and_who_acts_as_convener(personas):
    delphi = start_delphi(personas.cycle, personas.convener, live=True)
    rid = delphi.round.pk

    assert round_access(user=personas.outsider, round_id=rid) is None  # a member of another cycle
    assert round_access(user=personas.technologist, round_id=rid + 1000) is None  # no such round
    Membership.objects.filter(cycle=personas.cycle, user=personas.employer).update(status=Membership.Status.REMOVED)
    assert round_access(user=personas.employer, round_id=rid) is None  # no longer active

    admin = UserFactory(email="admin@site.test", is_superuser=True)
    view = round_access(user=admin, round_id=rid)
    assert view.access.membership is None and view.is_convener and not view.can_vote
    assert round_access(user=personas.convener, round_id=rid).is_convener


def test_a_cycle_without_a_saved_plan_gets_the_default_plan(personas):
    delphi = start_delphi(personas.cycle, personas.convener)
    DelphiPlan.objects.filter(cycle=personas.cycle).delete()

    view = round_access(user=personas.technologist, round_id=delphi.round.pk)

    assert view.plan.pk is None
    assert view.plan.voting_roles == default_plan(personas.cycle).voting_roles
    assert view.can_vote

"""A cycle's retention period: once the closed cycle is that many days old, the scheduled task
erases its members' personal data (fixed clock), once, keeping people still in another cycle."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings

from accounts.models import User
from cycles.models import AuditEvent, Cycle, Invitation, Phase, PhasePlan, Role
from privacy import services
from privacy.services import RETENTION_ERASED_VERB, RETENTION_TOO_SHORT, cycle_retention_set
from privacy.tasks import erase_due_personal_data
from tests.factories import MembershipFactory
from tests.privacy.test_erasure import _results

pytestmark = pytest.mark.django_db

CLOSED = dt.date(2026, 1, 10)
DAYS = 30
DUE = CLOSED + dt.timedelta(days=DAYS)


@pytest.fixture
def closed(rich):
    Cycle.objects.filter(pk=rich.pk).update(phase=Phase.CAUSE_ACTION, retention_days=DAYS)
    PhasePlan.objects.update_or_create(cycle=rich, phase=Phase.CAUSE_ACTION, defaults={"actual_end": CLOSED})
    rich.refresh_from_db()
    return rich


@pytest.fixture
def today(monkeypatch):
    """The scheduled task's clock, fixed."""
    clock = {"today": CLOSED}
    monkeypatch.setattr(services.timezone, "localdate", lambda: clock["today"])
    return clock


def _erased(cycle) -> set[str]:
    return {str(m.role) for m in cycle.memberships.select_related("user") if m.user.erased_at is not None}


def test_beat_runs_the_retention_task_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["erase-due-personal-data"]
    assert entry == {"task": "privacy.tasks.erase_due_personal_data", "schedule": 3600.0}


def test_nothing_is_erased_the_day_before_and_everyone_on_the_day(closed, personas, today):
    today["today"] = DUE - dt.timedelta(days=1)
    assert erase_due_personal_data.apply().get() == {}
    assert _erased(closed) == set()
    today["today"] = DUE
    assert erase_due_personal_data.apply().get() == {closed.slug: {"erased": 5, "kept": 0}}
    assert _erased(closed) == {r.value for r in Role}
    closed.refresh_from_db()
    assert closed.personal_data_erased_at is not None
    event = AuditEvent.objects.get(cycle=closed, verb=RETENTION_ERASED_VERB)
    assert event.actor is None and event.detail == {"erased": 5, "kept": 0}


def test_the_task_erases_once(closed, today):
    today["today"] = DUE + dt.timedelta(days=3)
    erase_due_personal_data.apply()
    assert erase_due_personal_data.apply().get() == {}


def test_results_are_the_same_after_the_retention_erasure(closed, today):
    before = _results(closed)
    today["today"] = DUE
    erase_due_personal_data.apply()
    assert _results(closed) == before


def test_someone_still_in_another_cycle_keeps_their_account(closed, personas, today):
    MembershipFactory(cycle=personas.other_cycle, user=personas.employer, role=Role.EMPLOYER)
    today["today"] = DUE
    assert erase_due_personal_data.apply().get() == {closed.slug: {"erased": 4, "kept": 1}}
    assert User.objects.get(pk=personas.employer.pk).erased_at is None


def test_invitations_nobody_accepted_are_withdrawn_without_their_address(closed, today):
    pending = Invitation.objects.filter(cycle=closed, accepted_by__isnull=True)
    assert pending.filter(email="new@a.test").exists()
    today["today"] = DUE
    erase_due_personal_data.apply()
    assert not Invitation.objects.filter(email="new@a.test").exists()
    assert all(i.revoked_at and i.email.endswith("@erased.invalid") and not i.name for i in pending)


def test_an_open_cycle_or_one_without_a_period_keeps_its_data(closed, today):
    today["today"] = DUE + dt.timedelta(days=365)
    Cycle.objects.filter(pk=closed.pk).update(retention_days=None)
    assert erase_due_personal_data.apply().get() == {}
    Cycle.objects.filter(pk=closed.pk).update(retention_days=DAYS, phase=Phase.COMMUNICATE)
    assert erase_due_personal_data.apply().get() == {}


def test_the_convener_sets_the_period_on_the_cycles_personal_data_page(closed, personas):
    client = personas.client_for(personas.convener)
    url = f"/cycles/{closed.slug}/privacy/"
    page = client.get(url).content.decode()
    assert "This cycle closed on 10 January 2026" in page and "will be erased on 9 February 2026" in page
    assert client.post(url, {"days": "90"}).status_code == 302
    closed.refresh_from_db()
    assert closed.retention_days == 90
    event = AuditEvent.objects.filter(cycle=closed, verb="cycle.retention_set").latest("id")
    assert event.actor == personas.convener and event.detail == {"from": DAYS, "to": 90}
    assert client.post(url, {"days": "0"}).status_code == 400
    assert client.post(url, {"days": ""}).status_code == 302
    closed.refresh_from_db()
    assert closed.retention_days is None


def test_only_the_convener_sets_the_period(closed, personas):
    with pytest.raises(Exception, match="convener"):
        cycle_retention_set(cycle=closed, actor=personas.employer, days=10)
    with pytest.raises(Exception, match=RETENTION_TOO_SHORT[:20]):
        cycle_retention_set(cycle=closed, actor=personas.convener, days=0)
    assert json.dumps(cycle_retention_set(cycle=closed, actor=None, days=5).retention_days) == "5"

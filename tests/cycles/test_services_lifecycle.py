"""Creating a cycle, moving between phases and the guards that say what is missing."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cycles import services
from cycles.models import AuditEvent, Cycle, Membership, Phase, PhasePlan, Role, Workshop
from cycles.services import lifecycle
from tests.cycles.factories import InvitationFactory, SolutionFactory
from tests.factories import MembershipFactory, RoleLevelFactory, SupplyChainPartnerFactory, UserFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def convener():
    return UserFactory(email="lead@example.test")


@pytest.fixture
def cycle(convener):
    return services.cycle_create(created_by=convener, title="Point of care", challenge="Adopt point-of-care by 2030.")


def test_creating_a_cycle_makes_six_phase_plans_and_the_creator_its_convener(cycle, convener):
    assert cycle.phase == Phase.CONSIDER
    assert list(cycle.phase_plans.values_list("phase", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert cycle.phase_plans.get(phase=Phase.CONSIDER).actual_start == timezone.localdate()
    membership = Membership.objects.get(cycle=cycle, user=convener)
    assert membership.role == Role.CONVENER
    assert AuditEvent.objects.filter(cycle=cycle, verb="cycle.created", actor=convener).exists()


def test_two_cycles_with_the_same_title_get_distinct_slugs(convener):
    first = services.cycle_create(created_by=convener, title="Same", challenge="x")
    second = services.cycle_create(created_by=convener, title="Same", challenge="y")
    assert first.slug == "same" and second.slug == "same-2"


def test_advancing_from_consider_without_a_solution_is_refused_and_changes_nothing(cycle, convener):
    with pytest.raises(services.PhaseGuardError) as excinfo:
        services.phase_advance(cycle=cycle, actor=convener)
    assert excinfo.value.missing == [lifecycle.MISSING_SOLUTION]
    cycle.refresh_from_db()
    assert cycle.phase == Phase.CONSIDER
    assert not AuditEvent.objects.filter(cycle=cycle, verb="phase.advanced").exists()
    assert cycle.phase_plans.get(phase=Phase.CONSIDER).actual_end is None


def test_advancing_records_actual_dates_and_an_audit_event(cycle, convener):
    SolutionFactory(cycle=cycle)
    services.phase_advance(cycle=cycle, actor=convener)
    cycle.refresh_from_db()
    today = timezone.localdate()
    assert cycle.phase == Phase.IDENTIFY
    assert cycle.phase_plans.get(phase=Phase.CONSIDER).actual_end == today
    assert cycle.phase_plans.get(phase=Phase.IDENTIFY).actual_start == today
    event = AuditEvent.objects.get(cycle=cycle, verb="phase.advanced")
    assert event.actor == convener and event.detail == {"from": 1, "to": 2}


def test_prepare_needs_a_prioritised_solution(cycle, convener):
    solution = SolutionFactory(cycle=cycle)
    services.phase_advance(cycle=cycle, actor=convener)
    with pytest.raises(services.PhaseGuardError) as excinfo:
        services.phase_advance(cycle=cycle, actor=convener)
    assert excinfo.value.missing == [lifecycle.MISSING_PRIORITISED]
    services.solution_set_prioritised(solution=solution, prioritised=True, actor=convener)
    assert services.phase_advance(cycle=cycle, actor=convener).phase == Phase.PREPARE


def test_carry_out_lists_everything_that_is_missing(convener):
    cycle = services.cycle_create(created_by=convener, title="Guarded", challenge="x")
    Cycle.objects.filter(pk=cycle.pk).update(phase=Phase.PREPARE)
    missing = services.phase_missing(cycle=cycle, phase=Phase.CARRY_OUT)
    assert missing == [lifecycle.MISSING_PARTNER, lifecycle.MISSING_ROLE_LEVEL, lifecycle.MISSING_WORKSHOP]


def test_carry_out_needs_members_or_invitations_for_each_role_the_workshops_need(convener):
    cycle = services.cycle_create(created_by=convener, title="Roles", challenge="x")
    Cycle.objects.filter(pk=cycle.pk).update(phase=Phase.PREPARE)
    cycle.refresh_from_db()
    SupplyChainPartnerFactory(cycle=cycle)
    RoleLevelFactory(cycle=cycle)
    WorkshopFactory(cycle=cycle, kind=Workshop.Kind.TECHNOLOGIST)
    WorkshopFactory(cycle=cycle, kind=Workshop.Kind.EMPLOYER)
    WorkshopFactory(cycle=cycle, kind=Workshop.Kind.PLENARY)
    with pytest.raises(services.PhaseGuardError) as excinfo:
        services.phase_advance(cycle=cycle, actor=convener)
    assert len(excinfo.value.missing) == 2
    assert "technologist" in excinfo.value.missing[1] and "employer" in excinfo.value.missing[0]
    cycle.refresh_from_db()
    assert cycle.phase == Phase.PREPARE

    MembershipFactory(cycle=cycle, role=Role.TECHNOLOGIST)
    InvitationFactory(cycle=cycle, role=Role.EMPLOYER)
    assert services.phase_advance(cycle=cycle, actor=convener).phase == Phase.CARRY_OUT


def test_an_expired_invitation_does_not_satisfy_the_carry_out_guard(convener):
    cycle = services.cycle_create(created_by=convener, title="Expired", challenge="x")
    SupplyChainPartnerFactory(cycle=cycle)
    RoleLevelFactory(cycle=cycle)
    WorkshopFactory(cycle=cycle, kind=Workshop.Kind.EDUCATOR)
    InvitationFactory(cycle=cycle, role=Role.EDUCATOR, expires_at=timezone.now() - timedelta(minutes=1))
    assert len(services.phase_missing(cycle=cycle, phase=Phase.CARRY_OUT)) == 1


def test_communicate_needs_a_workshop_that_has_started(convener):
    cycle = services.cycle_create(created_by=convener, title="Comms", challenge="x")
    WorkshopFactory(cycle=cycle)  # next week
    assert services.phase_missing(cycle=cycle, phase=Phase.COMMUNICATE) == [lifecycle.MISSING_STARTED_WORKSHOP]
    WorkshopFactory(cycle=cycle, starts_at=timezone.now() - timedelta(days=1))
    assert services.phase_missing(cycle=cycle, phase=Phase.COMMUNICATE) == []


def test_the_last_phase_cannot_be_advanced(convener):
    cycle = services.cycle_create(created_by=convener, title="Last", challenge="x")
    Cycle.objects.filter(pk=cycle.pk).update(phase=Phase.CAUSE_ACTION)
    with pytest.raises(ValidationError, match="last phase"):
        services.phase_advance(cycle=cycle, actor=convener)


def test_a_higher_app_can_register_a_guard(cycle, convener, monkeypatch):
    monkeypatch.setitem(lifecycle.PHASE_GUARDS, Phase.IDENTIFY, list(lifecycle.PHASE_GUARDS[Phase.IDENTIFY]))
    services.register_phase_guard(Phase.IDENTIFY, lambda c: ["The moon must be full."])
    SolutionFactory(cycle=cycle)
    assert services.phase_missing(cycle=cycle, phase=Phase.IDENTIFY) == ["The moon must be full."]


def test_reopening_goes_back_clears_later_actual_dates_and_is_audited(cycle, convener):
    solution = SolutionFactory(cycle=cycle)
    services.phase_advance(cycle=cycle, actor=convener)
    services.solution_set_prioritised(solution=solution, prioritised=True, actor=convener)
    services.phase_advance(cycle=cycle, actor=convener)
    services.phase_reopen(cycle=cycle, phase=Phase.CONSIDER, actor=convener, reason="Missed a solution")
    cycle.refresh_from_db()
    assert cycle.phase == Phase.CONSIDER
    plans = {p.phase: p for p in cycle.phase_plans.all()}
    assert plans[Phase.CONSIDER].actual_end is None
    assert plans[Phase.IDENTIFY].actual_start is None and plans[Phase.PREPARE].actual_start is None
    event = AuditEvent.objects.get(cycle=cycle, verb="phase.reopened")
    assert "Missed a solution" in event.summary and event.detail["from"] == Phase.PREPARE


def test_reopening_the_current_or_a_later_phase_is_refused(cycle, convener):
    with pytest.raises(ValidationError, match=lifecycle.REOPEN_NOT_EARLIER):
        services.phase_reopen(cycle=cycle, phase=Phase.CONSIDER, actor=convener)
    with pytest.raises(ValidationError):
        services.phase_reopen(cycle=cycle, phase=Phase.PREPARE, actor=convener)


def test_phase_dates_with_an_end_before_the_start_change_nothing(cycle, convener):
    plan = cycle.phase_plans.get(phase=Phase.PREPARE)
    with pytest.raises(ValidationError) as excinfo:
        services.phase_plan_update(
            plan=plan,
            actor=convener,
            planned_start=date(2026, 5, 1),
            planned_end=date(2026, 4, 1),
            actual_start=None,
            actual_end=None,
        )
    assert "planned_end" in excinfo.value.message_dict
    plan.refresh_from_db()
    assert plan.planned_start is None
    assert not AuditEvent.objects.filter(verb="phase.dates_changed").exists()


def test_phase_dates_are_saved_and_audited(cycle, convener):
    plan = cycle.phase_plans.get(phase=Phase.PREPARE)
    services.phase_plan_update(
        plan=plan,
        actor=convener,
        planned_start=date(2026, 4, 1),
        planned_end=date(2026, 5, 1),
        actual_start=None,
        actual_end=None,
    )
    assert PhasePlan.objects.get(pk=plan.pk).planned_end == date(2026, 5, 1)
    assert AuditEvent.objects.get(verb="phase.dates_changed").detail["planned_end"] == ["", "2026-05-01"]


def test_editing_cycle_details_is_audited_with_before_and_after(cycle, convener):
    services.cycle_update(cycle=cycle, actor=convener, sector="Health")
    event = AuditEvent.objects.get(verb="cycle.updated")
    assert event.detail == {"sector": {"before": "", "after": "Health"}}

"""Who may do an act is decided in the service that does it (docs/architecture.md, Authorisation).

Every service that changes a cycle is called here directly, as a view, a consumer, a command or a
task would call it: an outsider, a member whose role the views do not allow, a removed member and
an anonymous user are refused with PermissionDenied and nothing in the database changes; every
role the views allow, a site administrator and the system (``actor=None``) may act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from cycles import services as cycle_services
from cycles.access import require_role
from cycles.models import Membership, Phase, Role, Workshop
from cycles.services.solutions import CONTRIBUTOR_ROLES
from findings import services as findings_services
from findings.models import ActionItem, ShareLink
from matching import services as matching_services
from matching.models import Framework, FrameworkVersion, MatchReview, MatchRun, Statement
from tests.cycles.factories import InvitationFactory, PhasePlanFactory, SolutionFactory
from tests.factories import (
    MembershipFactory,
    RoleLevelFactory,
    SupplyChainPartnerFactory,
    UserFactory,
    WorkshopFactory,
)
from workshops.capture import bulk as capture_bulk
from workshops.capture import services as capture_services
from workshops.delphi import services as delphi_services
from workshops.models import Capability, Function

CONVENER = (Role.CONVENER,)
ALL_ROLES = tuple(Role)
STATEMENT = "Operate and maintain the automated inspection cell to the agreed standard."
# Tables a refused call must leave exactly as they were (every app that holds a cycle's state).
WATCHED_APPS = ("accounts", "cycles", "workshops", "findings", "matching")

Act = Callable[[object], object]


@dataclass(frozen=True)
class Case:
    roles: tuple[str, ...] | None  # None: any active member
    prepare: Callable[[object], Act]  # personas -> act(actor)
    system: bool = True  # False: the act is a person's own (a rating), so there is no system actor


def _capability(cycle, ref="C01", status=Capability.Status.SUBMITTED) -> Capability:
    return Capability.objects.create(cycle=cycle, ref=ref, statement=f"{STATEMENT} ({ref})", status=status)


def _in_phase(cycle, phase):
    cycle.phase = phase
    cycle.save(update_fields=["phase"])
    return cycle


def _open_round(cycle):
    _capability(cycle, status=Capability.Status.ACCEPTED)
    RoleLevelFactory(cycle=cycle)
    return delphi_services.round_open(cycle=cycle, actor=None)


def _version() -> FrameworkVersion:
    framework, _ = Framework.objects.get_or_create(kind=Framework.Kind.values[0], defaults={"name": "Framework"})
    return FrameworkVersion.objects.create(framework=framework, label="v1", source="tests", checksum="tests")


def _statement(version) -> Statement:
    return Statement.objects.create(
        version=version, ref="S1", kind=Statement.Kind.TASK, text="Inspect parts.", text_hash="ab" * 32
    )


def _run(cycle) -> MatchRun:
    return MatchRun.objects.create(
        cycle=cycle, framework_version=_version(), model_name="m", threshold=0.5, status=MatchRun.Status.DONE
    )


def _bulk_csv() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "people.csv", b"name,email,organisation,group,role\nAnn Lee,ann@new.test,Acme,industry,employer\n"
    )


def _membership(p, user) -> Membership:
    return Membership.objects.get(cycle=p.cycle, user=user)


# --- every guarded service: the roles its views allow, and how to call it -----------------------
# Each function prepares what the act needs in cycle A and returns act(actor).

CASES: dict[str, Case] = {}


def case(roles: tuple[str, ...] | None, *, system: bool = True):
    def register(prepare: Callable[[object], Act]) -> Callable[[object], Act]:
        CASES[prepare.__name__] = Case(roles, prepare, system)
        return prepare

    return register


# cycles: details and phases


@case(CONVENER)
def cycle_update(p):
    return lambda a: cycle_services.cycle_update(cycle=p.cycle, actor=a, title="New title")


@case(CONVENER)
def phase_advance(p):
    SolutionFactory(cycle=p.cycle)
    return lambda a: cycle_services.phase_advance(cycle=p.cycle, actor=a)


@case(CONVENER)
def phase_reopen(p):
    _in_phase(p.cycle, Phase.IDENTIFY)
    return lambda a: cycle_services.phase_reopen(cycle=p.cycle, phase=Phase.CONSIDER, actor=a)


@case(CONVENER)
def phase_plan_update(p):
    plan = PhasePlanFactory(cycle=p.cycle, phase=Phase.CONSIDER)
    dates = {
        "planned_start": date(2030, 1, 1),
        "planned_end": date(2030, 2, 1),
        "actual_start": None,
        "actual_end": None,
    }
    return lambda a: cycle_services.phase_plan_update(plan=plan, actor=a, **dates)


# cycles: people


@case(CONVENER)
def membership_change_role(p):
    return lambda a: cycle_services.membership_change_role(
        membership=_membership(p, p.employer), role=Role.EDUCATOR, actor=a
    )


@case(CONVENER)
def membership_remove(p):
    return lambda a: cycle_services.membership_remove(membership=_membership(p, p.employer), actor=a)


@case(CONVENER)
def invitation_create(p):
    return lambda a: cycle_services.invitation_create(
        cycle=p.cycle, email="new@new.test", role=Role.TECHNOLOGIST, invited_by=a
    )


@case(CONVENER)
def invitation_revoke(p):
    invitation = InvitationFactory(cycle=p.cycle)
    return lambda a: cycle_services.invitation_revoke(invitation=invitation, actor=a)


@case(CONVENER)
def invitation_resend(p):
    invitation = InvitationFactory(cycle=p.cycle)
    return lambda a: cycle_services.invitation_resend(invitation=invitation, actor=a)


@case(CONVENER)
def invitations_bulk_create(p):
    return lambda a: cycle_services.invitations_bulk_create(cycle=p.cycle, upload=_bulk_csv(), invited_by=a)


# cycles: prepare


@case(CONVENER)
def partner_save(p):
    return lambda a: cycle_services.partner_save(cycle=p.cycle, actor=a, name="New partner")


@case(CONVENER)
def partner_delete(p):
    partner = SupplyChainPartnerFactory(cycle=p.cycle)
    return lambda a: cycle_services.partner_delete(partner=partner, actor=a)


@case(CONVENER)
def role_level_save(p):
    return lambda a: cycle_services.role_level_save(
        cycle=p.cycle, actor=a, name="New level", academic_level_min=3, academic_level_max=5
    )


@case(CONVENER)
def role_level_delete(p):
    level = RoleLevelFactory(cycle=p.cycle)
    return lambda a: cycle_services.role_level_delete(role_level=level, actor=a)


@case(CONVENER)
def workshop_save(p):
    starts = timezone.now() + timedelta(days=3)
    return lambda a: cycle_services.workshop_save(
        cycle=p.cycle, actor=a, kind=Workshop.Kind.TECHNOLOGIST, title="New workshop", starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )  # fmt: skip


@case(CONVENER)
def workshop_delete(p):
    workshop = WorkshopFactory(cycle=p.cycle)
    return lambda a: cycle_services.workshop_delete(workshop=workshop, actor=a)


# cycles: solutions (contributors propose and rate; the convener prioritises)


@case(CONTRIBUTOR_ROLES)
def solution_propose(p):
    return lambda a: cycle_services.solution_propose(cycle=p.cycle, title="A new solution", proposed_by=a)


@case(CONTRIBUTOR_ROLES, system=False)  # a rating is someone's own: there is no system rating
def solution_rate(p):
    solution = SolutionFactory(cycle=_in_phase(p.cycle, Phase.IDENTIFY))
    return lambda a: cycle_services.solution_rate(solution=solution, rater=a, impact=3, feasibility=4)


@case(CONTRIBUTOR_ROLES, system=False)
def solutions_rate(p):
    solution = SolutionFactory(cycle=_in_phase(p.cycle, Phase.IDENTIFY))
    return lambda a: cycle_services.solutions_rate(
        cycle=solution.cycle, rater=a, ratings={solution: {"impact": 3, "feasibility": 4}}
    )


@case(CONVENER)
def solution_set_prioritised(p):
    solution = SolutionFactory(cycle=_in_phase(p.cycle, Phase.IDENTIFY))
    return lambda a: cycle_services.solution_set_prioritised(solution=solution, prioritised=True, actor=a)


# capture (the convener and technologists submit; the convener reviews and imports)


@case(capture_services.SUBMIT_ROLES)
def capability_submit(p):
    return lambda a: capture_services.capability_submit(cycle=p.cycle, actor=a, statement=STATEMENT)


@case(CONVENER)
def capability_update(p):
    capability = _capability(p.cycle)
    return lambda a: capture_services.capability_update(
        capability=capability, actor=a, statement=f"{STATEMENT} Reworded.", partners=[]
    )


@case(CONVENER)
def capability_accept(p):
    capability = _capability(p.cycle)
    return lambda a: capture_services.capability_accept(capability=capability, actor=a)


@case(CONVENER)
def capability_reject(p):
    capability = _capability(p.cycle)
    return lambda a: capture_services.capability_reject(capability=capability, actor=a, reason="Duplicate")


@case(CONVENER)
def capability_merge(p):
    survivor, source = _capability(p.cycle, "C01"), _capability(p.cycle, "C02")
    return lambda a: capture_services.capability_merge(survivor=survivor, sources=[source], actor=a)


@case(CONVENER)
def capabilities_import(p):
    data = f"statement\n{STATEMENT}\n".encode()
    return lambda a: capture_services.capabilities_import(cycle=p.cycle, actor=a, data=data)


@case(CONVENER)
def capabilities_bulk_accept(p):
    rows = [_capability(p.cycle, "C01"), _capability(p.cycle, "C02")]
    return lambda a: capture_bulk.capabilities_bulk_accept(cycle=p.cycle, actor=a, capabilities=rows)


@case(CONVENER)
def capabilities_bulk_reject(p):
    rows = [_capability(p.cycle, "C01")]
    return lambda a: capture_bulk.capabilities_bulk_reject(cycle=p.cycle, actor=a, capabilities=rows, reason="Dup")


@case(CONVENER)
def capabilities_bulk_classify(p):
    rows, function = [_capability(p.cycle, "C01")], Function.objects.create(name="Design")
    return lambda a: capture_bulk.capabilities_bulk_classify(
        cycle=p.cycle, actor=a, capabilities=rows, function=function
    )


@case(CONVENER)
def capabilities_bulk_apply_suggested(p):
    rows, function = [_capability(p.cycle, "C01")], Function.objects.create(name="Design")
    suggestions = {rows[0].pk: (function.pk, None, None)}
    return lambda a: capture_bulk.capabilities_bulk_apply_suggested(
        cycle=p.cycle, actor=a, capabilities=rows, suggestions=suggestions
    )


@case(CONVENER)
def capabilities_bulk_assign_partners(p):
    rows, partner = [_capability(p.cycle, "C01")], SupplyChainPartnerFactory(cycle=p.cycle)
    return lambda a: capture_bulk.capabilities_bulk_assign_partners(
        cycle=p.cycle, actor=a, capabilities=rows, partners=[partner]
    )


@case(CONVENER)
def capabilities_bulk_undo(p):
    rows = [_capability(p.cycle, "C01")]
    event = capture_bulk.capabilities_bulk_accept(cycle=p.cycle, actor=None, capabilities=rows).event
    return lambda a: capture_bulk.capabilities_bulk_undo(cycle=p.cycle, actor=a, event_id=event.pk)


# Delphi (the convener runs it; vote_cast has its own rule, tested with the rounds)


@case(CONVENER)
def delphi_plan_update(p):
    plan = {
        "voting_roles": [Role.TECHNOLOGIST], "min_responses": 2, "agreement_threshold": 0.7, "iqr_max": 1.0,
        "stability_threshold": 0.15, "max_rounds": 2, "feedback_mode": "classic", "live_quorum": 0,
    }  # fmt: skip
    return lambda a: delphi_services.delphi_plan_update(cycle=p.cycle, actor=a, **plan)


@case(CONVENER)
def round_open(p):
    _capability(p.cycle, status=Capability.Status.ACCEPTED)
    RoleLevelFactory(cycle=p.cycle)
    return lambda a: delphi_services.round_open(cycle=p.cycle, actor=a)


@case(CONVENER)
def round_close(p):
    rnd = _open_round(p.cycle)
    return lambda a: delphi_services.round_close(round_id=rnd.pk, actor=a)


@case(CONVENER)
def round_reveal(p):
    rnd = _open_round(p.cycle)
    return lambda a: delphi_services.round_reveal(round_id=rnd.pk, actor=a, revealed=True)


@case(CONVENER)
def round_discuss(p):
    rnd = _open_round(p.cycle)
    item = rnd.items.first()
    return lambda a: delphi_services.round_discuss(round_id=rnd.pk, actor=a, item_id=item.pk)


# findings (the convener writes them; any member may export them)


@case(CONVENER)
def action_item_create(p):
    fields = {"topic": "Apprenticeships", "action": "Design one."}
    return lambda a: findings_services.action_item_create(cycle=p.cycle, actor=a, fields=fields)


@case(CONVENER)
def action_item_update(p):
    item = ActionItem.objects.create(cycle=p.cycle, topic="Old", action="Act.", order=1)
    return lambda a: findings_services.action_item_update(item=item, actor=a, fields={"topic": "New"})


@case(CONVENER)
def action_item_delete(p):
    item = ActionItem.objects.create(cycle=p.cycle, topic="Old", action="Act.", order=1)
    return lambda a: findings_services.action_item_delete(item=item, actor=a)


@case(CONVENER)
def report_section_save(p):
    return lambda a: findings_services.report_section_save(cycle=p.cycle, key="challenge", body="Text.", actor=a)


@case(CONVENER)
def share_link_create(p):
    return lambda a: findings_services.share_link_create(cycle=p.cycle, actor=a, label="Board")


@case(CONVENER)
def share_link_revoke(p):
    link = ShareLink.objects.create(cycle=p.cycle)
    return lambda a: findings_services.share_link_revoke(link=link, actor=a)


@case(None)
def export_job_create(p):
    return lambda a: findings_services.export_job_create(cycle=p.cycle, kind="workbook", actor=a)


# matching (the convener runs matches; the convener and educators review them)


@case(CONVENER)
def match_run_create(p):
    version = _version()
    return lambda a: matching_services.match_run_create(
        cycle=p.cycle, framework_version=version, created_by=a, enqueue=False
    )


@case(CONVENER)
def match_run_rerun(p):
    run = _run(p.cycle)
    return lambda a: matching_services.match_run_rerun(run=run, actor=a, enqueue=False)


@case(CONVENER)
def match_run_set_threshold(p):
    run = _run(p.cycle)
    return lambda a: matching_services.match_run_set_threshold(run=run, actor=a, threshold=0.6)


@case(matching_services.REVIEW_ROLES)
def match_review_record(p):
    capability, statement = _capability(p.cycle, status=Capability.Status.ACCEPTED), _statement(_version())
    return lambda a: matching_services.match_review_record(
        capability=capability, statement=statement, decision=MatchReview.Decision.CONFIRM, reviewer=a
    )


@case(matching_services.REVIEW_ROLES)
def match_review_clear(p):
    capability, statement = _capability(p.cycle, status=Capability.Status.ACCEPTED), _statement(_version())
    MatchReview.objects.create(capability=capability, statement=statement, decision=MatchReview.Decision.REJECT)
    return lambda a: matching_services.match_review_clear(capability=capability, statement=statement, actor=a)


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every watched table, in a comparable form."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label in WATCHED_APPS:
            rows = model._base_manager.order_by("pk").values_list()
            state[model._meta.label] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    return state


def _allowed(case: Case, role: str) -> bool:
    return case.roles is None or role in case.roles


@pytest.fixture
def removed_convener(personas):
    user = UserFactory(email="removed@a.test")
    MembershipFactory(cycle=personas.cycle, user=user, role=Role.CONVENER, status=Membership.Status.REMOVED)
    return user


@pytest.fixture
def admin(db):
    """A site administrator who is not a member of the cycle (the views let them act as its convener)."""
    return UserFactory(email="admin@site.test", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_who_the_views_refuse_the_service_refuses_and_nothing_changes(name, personas, removed_convener):
    case = CASES[name]
    act = case.prepare(personas)
    refused = {
        "an outsider (a convener of another cycle)": personas.outsider,
        "a removed convener": removed_convener,
        "an anonymous user": AnonymousUser(),
    }
    for role in ALL_ROLES:
        if not _allowed(case, role):
            refused[f"a {role.label.lower()}"] = getattr(personas, str(role))
    before = _snapshot()
    for who, actor in refused.items():
        with pytest.raises(PermissionDenied) as caught:
            act(actor)
        assert str(caught.value).startswith("Only "), f"{name} refused {who} without saying who may act"
        assert _snapshot() == before, f"{name} changed the database when it refused {who}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_who_the_views_allow_the_service_allows(name, personas, admin):
    case = CASES[name]
    allowed = {f"a {role.label.lower()}": getattr(personas, str(role)) for role in ALL_ROLES if _allowed(case, role)}
    allowed["a site administrator"] = admin
    if case.system:
        allowed["the system (actor=None)"] = None
    for who, actor in allowed.items():
        # Each actor acts on fresh objects, then the change is rolled back for the next one.
        with transaction.atomic():
            act = case.prepare(personas)
            try:
                act(actor)
            except PermissionDenied as exc:  # pragma: no cover - the failure message says who
                pytest.fail(f"{name} refused {who}: {exc}")
            transaction.set_rollback(True)


def test_a_refusal_says_what_is_needed(personas):
    with pytest.raises(PermissionDenied, match="^Only the cycle's convener may close a round.$"):
        require_role(personas.cycle, personas.observer, CONVENER, "Only the cycle's convener may close a round.")


def test_the_system_needs_no_membership(db):
    require_role(None, None, CONVENER, "never raised")  # the cycle is not even looked at


def test_a_site_administrator_who_is_a_member_acts_in_their_role(personas, admin):
    MembershipFactory(cycle=personas.cycle, user=admin, role=Role.OBSERVER)
    with pytest.raises(PermissionDenied):
        require_role(personas.cycle, admin, CONVENER, "Only the cycle's convener may do this.")
    require_role(personas.cycle, admin, (Role.OBSERVER,), "never raised")

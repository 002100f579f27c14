"""A cycle's life: creation, details, the phase plan, and moving between phases.

Phase guards
------------
Advancing into a phase is allowed only when the cycle has what that phase needs. Each guard
returns a list of plain sentences naming what is missing (empty list: nothing missing):

* **Identify** needs at least one proposed solution (there is nothing to rate otherwise).
* **Prepare** needs at least one prioritised solution (the convener's decision is the output of
  Identify).
* **Carry out** needs at least one supply-chain partner, one role level, one scheduled workshop,
  and, for every role the scheduled workshops need (``WORKSHOP_ROLES``), at least one active
  member or pending invitation in that role.
* **Communicate** needs at least one workshop that has started (there are no findings before
  any workshop has happened).
* **Cause action** has no built-in guard.

Apps higher up the dependency chain add their own conditions with ``register_phase_guard``
(e.g. workshops: "no Delphi round is still open"), from their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import (
    WORKSHOP_ROLES,
    Cycle,
    Invitation,
    Membership,
    Phase,
    PhasePlan,
    Role,
    Workshop,
)
from cycles.services.audit import audit_record

CYCLE_FIELDS = (
    "title",
    "challenge",
    "challenge_when",
    "sector",
    "technology_focus",
    "sponsor",
    "convener_organisation",
    "centre_of_innovation",
    "sign_in_provider",
)

ALREADY_LAST_PHASE = "The cycle is already in its last phase."
REOPEN_NOT_EARLIER = "Only an earlier phase can be reopened."
MISSING_SOLUTION = "At least one candidate solution must be proposed (Consider)."
MISSING_PRIORITISED = "At least one solution must be marked as prioritised (Identify)."
MISSING_PARTNER = "At least one supply-chain partner must be defined (Prepare › Partners)."
MISSING_ROLE_LEVEL = "At least one role level must be defined (Prepare › Role levels)."
MISSING_WORKSHOP = "At least one workshop must be scheduled (Prepare › Workshops)."
MISSING_ROLE_MEMBERS = "The {workshop} needs at least one {role} member or pending invitation (Members)."
MISSING_STARTED_WORKSHOP = "At least one workshop must have taken place."
PLAN_END_BEFORE_START = "The {which} end is before its start."

Guard = Callable[[Cycle], list[str]]


class PhaseGuardError(ValidationError):
    """Raised when a phase cannot be entered; ``missing`` lists what is needed, in plain words."""

    def __init__(self, phase: int, missing: list[str]):
        self.phase = phase
        self.missing = missing
        super().__init__(missing)


def _guard_identify(cycle: Cycle) -> list[str]:
    return [] if cycle.solutions.exists() else [MISSING_SOLUTION]


def _guard_prepare(cycle: Cycle) -> list[str]:
    return [] if cycle.solutions.filter(prioritised=True).exists() else [MISSING_PRIORITISED]


def _guard_carry_out(cycle: Cycle) -> list[str]:
    missing = []
    if not cycle.partners.exists():
        missing.append(MISSING_PARTNER)
    if not cycle.role_levels.exists():
        missing.append(MISSING_ROLE_LEVEL)
    kinds = list(cycle.workshops.values_list("kind", flat=True).distinct())
    if not kinds:
        missing.append(MISSING_WORKSHOP)
    member_roles = set(
        cycle.memberships.filter(status=Membership.Status.ACTIVE).values_list("role", flat=True).distinct()
    )
    invited_roles = set(
        Invitation.objects.filter(
            cycle=cycle, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).values_list("role", flat=True)
    )
    for kind in sorted(kinds):
        for role in WORKSHOP_ROLES.get(kind, ()):
            if role not in member_roles and role not in invited_roles:
                missing.append(
                    MISSING_ROLE_MEMBERS.format(
                        workshop=Workshop.Kind(kind).label.lower(), role=Role(role).label.lower()
                    )
                )
    return missing


def _guard_communicate(cycle: Cycle) -> list[str]:
    return [] if cycle.workshops.filter(starts_at__lte=timezone.now()).exists() else [MISSING_STARTED_WORKSHOP]


PHASE_GUARDS: dict[int, list[Guard]] = {
    Phase.IDENTIFY: [_guard_identify],
    Phase.PREPARE: [_guard_prepare],
    Phase.CARRY_OUT: [_guard_carry_out],
    Phase.COMMUNICATE: [_guard_communicate],
    Phase.CAUSE_ACTION: [],
}


def register_phase_guard(phase: int, guard: Guard) -> None:
    """Let a higher app add a condition for entering ``phase`` (idempotent)."""
    guards = PHASE_GUARDS.setdefault(int(phase), [])
    if guard not in guards:
        guards.append(guard)


def phase_missing(*, cycle: Cycle, phase: int) -> list[str]:
    """What the cycle still lacks to enter ``phase`` (empty when it may)."""
    missing: list[str] = []
    for guard in PHASE_GUARDS.get(int(phase), []):
        missing.extend(guard(cycle))
    return missing


def _unique_slug(title: str) -> str:
    base = slugify(title)[:70] or "cycle"
    slug, n = base, 2
    while Cycle.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


UNKNOWN_SIGN_IN = "“{value}” is not a configured single sign-on provider (choose one of: {choices})."


def _check_sign_in_provider(value: str | None) -> None:
    from accounts.sso import configured_providers

    providers = configured_providers()
    if value and value.strip() not in providers:
        raise ValidationError(
            {"sign_in_provider": UNKNOWN_SIGN_IN.format(value=value, choices=", ".join(providers) or "none configured")}
        )


@transaction.atomic
def cycle_create(*, created_by: User, title: str, challenge: str, **details: str) -> Cycle:
    """Create a cycle in Consider with its six phase plans; the creator becomes its convener."""
    unknown = set(details) - set(CYCLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown cycle fields: {sorted(unknown)}")
    _check_sign_in_provider(details.get("sign_in_provider", ""))
    today = timezone.localdate()
    cycle = Cycle.objects.create(
        slug=_unique_slug(title),
        title=title.strip(),
        challenge=challenge.strip(),
        created_by=created_by,
        phase=Phase.CONSIDER,
        **{k: (v or "").strip() for k, v in details.items()},
    )
    PhasePlan.objects.bulk_create(
        [
            PhasePlan(cycle=cycle, phase=number, actual_start=today if number == Phase.CONSIDER else None)
            for number, _ in Phase.choices
        ]
    )
    Membership.objects.create(cycle=cycle, user=created_by, role=Role.CONVENER)
    audit_record(
        cycle=cycle,
        actor=created_by,
        verb="cycle.created",
        summary=f"Created the cycle “{cycle.title}” and joined as convener",
    )
    return cycle


@transaction.atomic
def cycle_update(*, cycle: Cycle, actor: User | None, **details: str) -> Cycle:
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="edit the cycle's details"))
    unknown = set(details) - set(CYCLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown cycle fields: {sorted(unknown)}")
    _check_sign_in_provider(details.get("sign_in_provider", ""))
    changed = {}
    for field, value in details.items():
        value = (value or "").strip()
        if getattr(cycle, field) != value:
            changed[field] = {"before": getattr(cycle, field), "after": value}
            setattr(cycle, field, value)
    if changed:
        cycle.full_clean(exclude=["slug"])
        cycle.save(update_fields=list(changed))
        audit_record(
            cycle=cycle,
            actor=actor,
            verb="cycle.updated",
            summary=f"Edited the cycle details ({', '.join(sorted(changed))})",
            detail=changed,
        )
    return cycle


def _ensure_plans(cycle: Cycle) -> dict[int, PhasePlan]:
    plans = {p.phase: p for p in PhasePlan.objects.select_for_update().filter(cycle=cycle)}
    for number, _ in Phase.choices:
        if number not in plans:
            plans[number] = PhasePlan.objects.create(cycle=cycle, phase=number)
    return plans


@transaction.atomic
def phase_advance(*, cycle: Cycle, actor: User | None) -> Cycle:
    """Move the cycle into its next phase, or raise PhaseGuardError naming what is missing."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="advance the cycle to its next phase"))
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.phase >= Phase.CAUSE_ACTION:
        raise ValidationError(ALREADY_LAST_PHASE)
    target = cycle.phase + 1
    missing = phase_missing(cycle=cycle, phase=target)
    if missing:
        raise PhaseGuardError(target, missing)
    today = timezone.localdate()
    plans = _ensure_plans(cycle)
    previous = plans[cycle.phase]
    if previous.actual_start is None:
        previous.actual_start = today
    if previous.actual_end is None:
        previous.actual_end = today
    previous.save(update_fields=["actual_start", "actual_end"])
    following = plans[target]
    following.actual_start = following.actual_start or today
    following.actual_end = None
    following.save(update_fields=["actual_start", "actual_end"])
    before = cycle.phase
    cycle.phase = target
    cycle.save(update_fields=["phase"])
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="phase.advanced",
        summary=f"Advanced from {Phase(before).label} to {Phase(target).label}",
        detail={"from": before, "to": target},
    )
    return cycle


@transaction.atomic
def phase_reopen(*, cycle: Cycle, phase: int, actor: User | None, reason: str = "") -> Cycle:
    """Go back to an earlier phase; the actual dates of the phases after it are cleared (the audit keeps them)."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="reopen an earlier phase"))
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    phase = int(phase)
    if phase not in Phase.values or phase >= cycle.phase:
        raise ValidationError(REOPEN_NOT_EARLIER)
    plans = _ensure_plans(cycle)
    cleared = {}
    for number, plan in plans.items():
        if number > phase and (plan.actual_start or plan.actual_end):
            cleared[number] = [str(plan.actual_start or ""), str(plan.actual_end or "")]
            plan.actual_start = plan.actual_end = None
            plan.save(update_fields=["actual_start", "actual_end"])
    reopened = plans[phase]
    reopened.actual_end = None
    reopened.actual_start = reopened.actual_start or timezone.localdate()
    reopened.save(update_fields=["actual_start", "actual_end"])
    before = cycle.phase
    cycle.phase = phase
    cycle.save(update_fields=["phase"])
    summary = f"Reopened {Phase(phase).label} (was in {Phase(before).label})"
    if reason.strip():
        summary += f": {reason.strip()}"
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="phase.reopened",
        summary=summary,
        detail={"from": before, "to": phase, "reason": reason.strip(), "cleared_actual_dates": cleared},
    )
    return cycle


@transaction.atomic
def phase_plan_update(
    *,
    plan: PhasePlan,
    actor: User | None,
    planned_start: date | None,
    planned_end: date | None,
    actual_start: date | None,
    actual_end: date | None,
) -> PhasePlan:
    """Change a phase's planned and actual dates; an end before its start changes nothing."""
    require_role(plan.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the phase dates"))
    errors = {}
    if planned_start and planned_end and planned_start > planned_end:
        errors["planned_end"] = PLAN_END_BEFORE_START.format(which="planned")
    if actual_start and actual_end and actual_start > actual_end:
        errors["actual_end"] = PLAN_END_BEFORE_START.format(which="actual")
    if errors:
        raise ValidationError(errors)
    new = {
        "planned_start": planned_start,
        "planned_end": planned_end,
        "actual_start": actual_start,
        "actual_end": actual_end,
    }
    changed = {k: [str(getattr(plan, k) or ""), str(v or "")] for k, v in new.items() if getattr(plan, k) != v}
    if changed:
        for field, value in new.items():
            setattr(plan, field, value)
        if plan.pk is None:
            plan.save()  # an older cycle's missing row, created by its first edit
        else:
            plan.save(update_fields=list(changed))
        audit_record(
            cycle=plan.cycle,
            actor=actor,
            verb="phase.dates_changed",
            summary=f"Changed the dates of {plan.get_phase_display()}",
            detail=changed,
        )
    return plan

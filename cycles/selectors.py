"""Reads for the cycles app: members, invitations, timeline, solution results and the dashboard."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cycles.access import cycles_for_user
from cycles.models import (
    AuditEvent,
    Cycle,
    Invitation,
    Membership,
    Phase,
    PhasePlan,
    Role,
    Solution,
    SolutionRating,
    Workshop,
)
from cycles.navigation import cycle_url


def memberships_of(cycle: Cycle, *, include_removed: bool = False) -> QuerySet[Membership]:
    qs = cycle.memberships.select_related("user", "user__organisation")
    if not include_removed:
        qs = qs.filter(status=Membership.Status.ACTIVE)
    return qs.order_by("role", "user__display_name", "user__email")


def invitations_of(cycle: Cycle, *, pending_only: bool = True) -> QuerySet[Invitation]:
    qs = cycle.invitations.select_related("invited_by")
    if pending_only:
        qs = qs.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
    return qs.order_by("email")


def open_invitations_of(cycle: Cycle) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked: pending ones and expired ones that can be re-sent."""
    return (
        cycle.invitations.select_related("invited_by")
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .order_by("email")
    )


def removed_memberships_of(cycle: Cycle) -> QuerySet[Membership]:
    return cycle.memberships.select_related("user", "user__organisation").filter(status=Membership.Status.REMOVED)


def pending_invitations_for_email(email: str) -> QuerySet[Invitation]:
    return Invitation.objects.select_related("cycle", "invited_by").filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def audit_events(cycle: Cycle, *, verb_prefix: str = "") -> QuerySet[AuditEvent]:
    """The cycle's audit trail, newest first; only verbs starting with ``verb_prefix`` when given."""
    events = cycle.audit_events.select_related("actor")
    return events.filter(verb__startswith=verb_prefix) if verb_prefix else events


# --- the audit log, as each role may read it ---------------------------------------------------------------------------------
# Personal data in the audit log (invitees' and members' addresses and names) is for conveners, who
# also see the members page. Observers (sponsors) read the same events with those people masked.

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
HIDDEN = "(hidden)"
SUBJECT_KEYS = ("email", "emails", "user")  # where a membership or invitation event names its person
SUBJECT_LABELS = {"invitation.": "an invitee", "membership.": "a member"}


@dataclass(frozen=True)
class AuditRow:
    created_at: datetime
    who: str
    summary: str
    detail: dict


def _subject_emails(event: AuditEvent) -> set[str]:
    found = set()
    for key in SUBJECT_KEYS:
        value = event.detail.get(key) if isinstance(event.detail, dict) else None
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and "@" in item:
                found.add(item.casefold())
    return found


def _subject_label(event: AuditEvent) -> str:
    label = next((text for prefix, text in SUBJECT_LABELS.items() if event.verb.startswith(prefix)), "someone")
    role = event.detail.get("role") if isinstance(event.detail, dict) else None
    if role in Role.values and Role(role).label not in event.summary:
        label += f" ({Role(role).label.lower()})"
    return label


def _mask_value(value):
    if isinstance(value, str):
        return EMAIL.sub(HIDDEN, value)
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


def audit_rows(cycle: Cycle, *, verb_prefix: str = "", personal: bool, limit: int = 500) -> list[AuditRow]:
    """The latest events as the audit page shows them: everything for conveners (``personal``); for
    others, no email address anywhere and the invitee or member an event is about named only by role."""
    events = list(audit_events(cycle, verb_prefix=verb_prefix)[:limit])
    if personal:
        return [AuditRow(e.created_at, str(e.actor) if e.actor else "system", e.summary, e.detail) for e in events]
    subjects = {e.pk: _subject_emails(e) for e in events}
    emails = set().union(*subjects.values()) if subjects else set()
    names = {
        email.casefold(): name
        for email, name in User.objects.filter(email__in=emails)
        .exclude(display_name="")
        .values_list("email", "display_name")
    }
    rows = []
    for event in events:
        label, summary = _subject_label(event), event.summary
        for email in sorted(subjects[event.pk], key=len, reverse=True):
            for text in filter(None, (names.get(email), email)):
                summary = re.sub(rf"(?<![\w@.]){re.escape(text)}(?![\w@])", label, summary, flags=re.IGNORECASE)
        summary = EMAIL.sub(label, summary)
        summary = summary[:1].upper() + summary[1:]
        actor = event.actor
        if actor is None:
            who = "system"
        elif actor.email.casefold() in subjects[event.pk]:
            who = "the member themselves"
        else:
            who = actor.display_name or "a member"
        rows.append(AuditRow(event.created_at, who, summary, _mask_value(event.detail)))
    return rows


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("cycle", "invited_by").filter(token=token).first()


def prepare_rows(model: type[models.Model], cycle: Cycle) -> QuerySet:
    """A Prepare list (partners, role levels, workshops) of ``cycle``, in the model's order."""
    return model.objects.filter(cycle=cycle)


# --- Timeline ---------------------------------------------------------------------------------


@dataclass
class Bar:
    left: float  # percent of the timeline width
    width: float


@dataclass
class TimelineRow:
    plan: PhasePlan
    planned: Bar | None
    actual: Bar | None
    is_current: bool
    is_overdue: bool
    markers: list[tuple[float, Workshop]] = field(default_factory=list)


@dataclass
class Timeline:
    start: date
    end: date
    today: float | None  # percent, None when today is outside the range
    rows: list[TimelineRow]
    workshops: list[tuple[float, Workshop]]
    months: list[tuple[float, date]]


def phase_plans(cycle: Cycle) -> list[PhasePlan]:
    plans = {p.phase: p for p in cycle.phase_plans.all()}
    # Older cycles may lack a row; show an empty one rather than hiding the phase.
    return [plans.get(number) or PhasePlan(cycle=cycle, phase=number) for number, _ in Phase.choices]


def phase_plan(cycle: Cycle, phase: int) -> PhasePlan:
    """One phase's plan; an unsaved, empty one when an older cycle lacks its row."""
    return cycle.phase_plans.filter(phase=phase).first() or PhasePlan(cycle=cycle, phase=phase)


def timeline_for(cycle: Cycle) -> Timeline:
    """Planned and actual bars per phase as percentages of one shared date range."""
    today = timezone.localdate()
    plans = phase_plans(cycle)
    workshops = list(cycle.workshops.all())
    dates = [d for p in plans for d in (p.planned_start, p.planned_end, p.actual_start, p.actual_end) if d]
    dates += [timezone.localtime(w.starts_at).date() for w in workshops]
    dates.append(today)
    start, end = min(dates), max(dates)
    start = start.replace(day=1)
    end = end + timedelta(days=14)
    span = max((end - start).days, 1)

    def pos(d: date) -> float:
        return round(100 * (d - start).days / span, 2)

    def bar(a: date | None, b: date | None) -> Bar | None:
        if not a:
            return None
        b = b or a
        return Bar(left=pos(a), width=max(round(100 * ((b - a).days + 1) / span, 2), 0.8))

    rows = []
    for plan in plans:
        actual_end = plan.actual_end or (today if plan.actual_start and plan.phase == cycle.phase else None)
        is_current = plan.phase == cycle.phase
        overdue = bool(
            plan.planned_end and plan.planned_end < today and (not plan.actual_end) and plan.phase >= cycle.phase
        )
        rows.append(
            TimelineRow(
                plan=plan,
                planned=bar(plan.planned_start, plan.planned_end),
                actual=bar(plan.actual_start, actual_end),
                is_current=is_current,
                is_overdue=overdue,
            )
        )
    markers = [(pos(timezone.localtime(w.starts_at).date()), w) for w in workshops]
    months = []
    cursor = start
    while cursor <= end:
        months.append((pos(cursor), cursor))
        cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
    if len(months) > 14:  # keep labels legible on long cycles
        step = -(-len(months) // 12)
        months = months[::step]
    return Timeline(start=start, end=end, today=pos(today), rows=rows, workshops=markers, months=months)


def timeline_row(cycle: Cycle, phase: int) -> TimelineRow:
    return next(r for r in timeline_for(cycle).rows if r.plan.phase == phase)


# --- Solutions --------------------------------------------------------------------------------


@dataclass
class SolutionResult:
    solution: Solution
    n: int
    impact_mean: float | None
    impact_median: float | None
    feasibility_mean: float | None
    feasibility_median: float | None
    comments: list[str]

    @property
    def score(self) -> float:
        return (self.impact_mean or 0) + (self.feasibility_mean or 0)


def solutions_of(cycle: Cycle) -> QuerySet[Solution]:
    return cycle.solutions.select_related("proposed_by").annotate(n_ratings=Count("ratings"))


def solution_results(cycle: Cycle) -> list[SolutionResult]:
    """n, mean and median of impact and feasibility per solution, best first."""
    by_solution: dict[int, list[SolutionRating]] = {}
    for rating in SolutionRating.objects.filter(solution__cycle=cycle).only(
        "solution_id", "impact", "feasibility", "comment"
    ):
        by_solution.setdefault(rating.solution_id, []).append(rating)
    results = []
    for solution in cycle.solutions.all():
        ratings = by_solution.get(solution.pk, [])
        impacts = [r.impact for r in ratings]
        feasibilities = [r.feasibility for r in ratings]
        results.append(
            SolutionResult(
                solution=solution,
                n=len(ratings),
                impact_mean=round(statistics.fmean(impacts), 2) if impacts else None,
                impact_median=statistics.median(impacts) if impacts else None,
                feasibility_mean=round(statistics.fmean(feasibilities), 2) if feasibilities else None,
                feasibility_median=statistics.median(feasibilities) if feasibilities else None,
                comments=[r.comment for r in ratings if r.comment],
            )
        )
    results.sort(key=lambda r: (-r.score, r.solution.title))
    return results


def ratings_by(cycle: Cycle, user: User) -> dict[int, SolutionRating]:
    return {r.solution_id: r for r in SolutionRating.objects.filter(solution__cycle=cycle, rater=user)}


# --- Dashboard: what is waiting for me --------------------------------------------------------


@dataclass
class WaitingItem:
    kind: str  # round, fop, tagging, phase, ... (each app names its own)
    cycle: Cycle
    text: str
    url_name: str = "cycles:cycle_detail"
    count: int = 1

    @property
    def url(self) -> str:
        return cycle_url(self.url_name, self.cycle) or cycle_url("cycles:cycle_detail", self.cycle) or ""


@dataclass
class Dashboard:
    invitations: list[Invitation]
    cycles: list[tuple[Cycle, str]]  # (cycle, role)
    waiting: list[WaitingItem]


@dataclass(frozen=True)
class DashboardScope:
    """What a dashboard source needs to know about the person: their cycles and role in each."""

    user: Any
    roles: dict[int, str]  # cycle id -> the user's role, for the cycles they are an active member of
    cycles: dict[int, Cycle]  # cycle id -> every cycle on their dashboard (a superuser's: all)


DashboardSource = Callable[[DashboardScope], Iterable[WaitingItem]]
DASHBOARD_SOURCES: list[DashboardSource] = []


def register_dashboard_source(source: DashboardSource) -> None:
    """Let a higher app add what is waiting for people (idempotent), from its ``AppConfig.ready``.

    A source reads in a fixed, small number of queries over all of ``scope.cycles`` at once."""
    if source not in DASHBOARD_SOURCES:
        DASHBOARD_SOURCES.append(source)


def counted_items(
    scope: DashboardScope, rows: Iterable[dict], kind: str, text: str, url_name: str
) -> list[WaitingItem]:
    """One item per cycle from rows of ``{"cycle_id": ..., "n": ...}``; ``text`` may use ``{n}``."""
    return [
        WaitingItem(kind, scope.cycles[row["cycle_id"]], text.format(n=row["n"]), url_name, count=row["n"])
        for row in rows
    ]


def active_memberships_of_user(user: User) -> QuerySet[Membership]:
    """The cycles ``user`` is an active member of, with each cycle loaded."""
    return Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).select_related("cycle")


def _next_phase_items(cycles: list[tuple[Cycle, str]]) -> list[WaitingItem]:
    """Conveners: the next phase's missing prerequisites, so the dashboard says what to do next."""
    from cycles.services.lifecycle import phase_missing  # local: selectors stay importable from services

    items = []
    for cycle, role in cycles:
        if role == Role.CONVENER and cycle.phase < Phase.CAUSE_ACTION:
            missing = phase_missing(cycle=cycle, phase=cycle.phase + 1)
            if missing:
                nxt = Phase(cycle.phase + 1).label
                items.append(
                    WaitingItem(
                        "phase",
                        cycle,
                        f"Before {nxt}: {missing[0]}" + (f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""),
                        "cycles:timeline",
                        count=len(missing),
                    )
                )
    return items


def dashboard_for(user: User) -> Dashboard:
    """Everything waiting for ``user``: each registered source's items, then the next phase's needs."""
    invitations = list(pending_invitations_for_email(user.email))
    memberships = list(active_memberships_of_user(user).order_by("-cycle__created_at"))
    roles = {m.cycle_id: m.role for m in memberships}
    if user.is_superuser:
        cycles = [(c, roles.get(c.pk, Role.CONVENER)) for c in cycles_for_user(user)]
    else:
        cycles = [(m.cycle, m.role) for m in memberships]
    scope = DashboardScope(user=user, roles=roles, cycles={c.pk: c for c, _ in cycles})
    waiting: list[WaitingItem] = []
    if scope.cycles:
        for source in DASHBOARD_SOURCES:
            waiting.extend(source(scope))
    waiting.extend(_next_phase_items(cycles))
    return Dashboard(invitations=invitations, cycles=cycles, waiting=waiting)


def counts_for(cycle: Cycle) -> dict[str, int]:
    """Headline numbers on a cycle's home page."""
    active = Q(status=Membership.Status.ACTIVE)
    return {
        "members": cycle.memberships.filter(active).count(),
        "invitations": invitations_of(cycle).count(),
        "solutions": cycle.solutions.count(),
        "prioritised": cycle.solutions.filter(prioritised=True).count(),
        "partners": cycle.partners.count(),
        "role_levels": cycle.role_levels.count(),
        "workshops": cycle.workshops.count(),
    }

"""Reads: a person's own data as one JSON document, the people a convener may erase, due cycles."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cycles.models import AuditEvent, Cycle, Invitation, Membership, Phase, PhasePlan, Role, SolutionRating
from findings.models import ActionItem
from matching.models import MatchReview
from workshops.models import FOP, Capability, CapabilityTag, FOPChange, ReminderOptOut, ReminderSent, Vote

EXPORT_VERSION = 1


def _when(value) -> str | None:
    return value.isoformat() if value else None


def invitations_of(user: User) -> QuerySet[Invitation]:
    return Invitation.objects.filter(Q(email__iexact=user.email) | Q(accepted_by=user))


def audit_events_about(user: User) -> QuerySet[AuditEvent]:
    """Events the person did, or that name them: every audit writer records a person by email
    (``detail.user``, ``detail.email``, ``detail.emails``) or, for erasures, by id."""
    email = user.email
    return AuditEvent.objects.filter(
        Q(actor=user)
        | Q(detail__user__iexact=email)
        | Q(detail__email__iexact=email)
        | Q(detail__emails__icontains=email)
        | Q(detail__user_id=user.pk)
    ).distinct()


def personal_data(user: User) -> dict[str, Any]:
    """Everything the platform holds about ``user``, and nothing about anyone else: other people
    appear neither by name nor by address (an audit entry says "you" or "another member")."""
    votes = (
        Vote.objects.filter(panellist=user)
        .select_related("round__cycle", "item__capability", "item__role_level")
        .order_by("round__cycle__slug", "round__number", "item_id")
    )
    return {
        "format": "foresight-personal-data",
        "version": EXPORT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "organisation": user.organisation.name if user.organisation_id else None,
            "stakeholder_group": user.group or None,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
            "is_staff": user.is_staff,
        },
        "memberships": [
            {
                "cycle": m.cycle.slug,
                "cycle_title": m.cycle.title,
                "role": m.role,
                "status": m.status,
                "joined_at": _when(m.joined_at),
            }
            for m in Membership.objects.filter(user=user).select_related("cycle").order_by("cycle__slug")
        ],
        "invitations": [
            {
                "cycle": i.cycle.slug,
                "email": i.email,
                "name": i.name,
                "organisation": i.organisation_name,
                "stakeholder_group": i.group,
                "role": i.role,
                "status": i.status,
                "created_at": _when(i.created_at),
                "accepted_at": _when(i.accepted_at),
            }
            for i in invitations_of(user).select_related("cycle").order_by("cycle__slug", "created_at")
        ],
        "delphi_answers": [
            {
                "cycle": v.round.cycle.slug,
                "round": v.round.number,
                "capability": v.item.capability.ref,
                "statement": v.item.capability.statement,
                "role_level": v.item.role_level.name,
                "value": v.value,
                "cant_judge": v.cant_judge,
                "rationale": v.rationale,
                "answered_at": _when(v.created_at),
                "changed_at": _when(v.updated_at),
            }
            for v in votes
        ],
        "capabilities_submitted": [
            {
                "cycle": c.cycle.slug,
                "ref": c.ref,
                "statement": c.statement,
                "status": c.status,
                "created_at": _when(c.created_at),
            }
            for c in Capability.objects.filter(submitted_by=user).select_related("cycle").order_by("cycle__slug", "ref")
        ],
        "solution_ratings": [
            {
                "cycle": r.solution.cycle.slug,
                "solution": r.solution.title,
                "impact": r.impact,
                "feasibility": r.feasibility,
                "comment": r.comment,
                "updated_at": _when(r.updated_at),
            }
            for r in SolutionRating.objects.filter(rater=user).select_related("solution__cycle").order_by("solution_id")
        ],
        "tags_added": [
            {
                "cycle": t.capability.cycle.slug,
                "capability": t.capability.ref,
                "kind": t.tag.kind,
                "tag": t.tag.name,
                "added_at": _when(t.created_at),
            }
            for t in CapabilityTag.objects.filter(added_by=user)
            .select_related("capability__cycle", "tag")
            .order_by("id")
        ],
        "fop_reviews": [
            {"cycle": f.cycle.slug, "fop": f.name, "status": f.status}
            for f in FOP.objects.filter(reviewers=user).select_related("cycle").order_by("cycle__slug", "name")
        ],
        "fop_changes": [
            {
                "cycle": ch.fop.cycle.slug,
                "fop": ch.fop.name,
                "action": ch.action,
                "field": ch.field,
                "reason": ch.reason,
                "at": _when(ch.created_at),
            }
            for ch in FOPChange.objects.filter(actor=user).select_related("fop__cycle").order_by("created_at", "id")
        ],
        "match_reviews": [
            {
                "cycle": r.capability.cycle.slug,
                "capability": r.capability.ref,
                "statement": r.statement_id,
                "decision": r.decision,
                "note": r.note,
                "at": _when(r.at),
            }
            for r in MatchReview.objects.filter(reviewer=user).select_related("capability__cycle").order_by("at", "id")
        ],
        "actions_owned": [
            {"cycle": a.cycle.slug, "topic": a.topic, "action": a.action, "status": a.status}
            for a in ActionItem.objects.filter(owner=user).select_related("cycle").order_by("cycle__slug", "id")
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _when(t.created_at),
                "expires_at": _when(t.expires_at),
                "revoked_at": _when(t.revoked_at),
            }
            for t in user.api_tokens.order_by("created_at", "id")
        ],
        "delphi_reminders": [
            {
                "cycle": r.round.cycle.slug,
                "round": r.round.number,
                "hours_before_deadline": r.hours_before,
                "status": r.status,
                "at": _when(r.created_at),
            }
            for r in ReminderSent.objects.filter(panellist=user)
            .select_related("round__cycle")
            .order_by("created_at", "id")
        ],
        "reminders_unsubscribed": sorted(
            ReminderOptOut.objects.filter(user=user).values_list("cycle__slug", flat=True)
        ),
        # Single sign-on links: which provider knows the person by which id (never its tokens).
        "sign_on_links": [
            {
                "provider": s.provider,
                "uid": s.uid,
                "linked_at": _when(s.date_joined),
                "last_sign_in": _when(s.last_login),
            }
            for s in SocialAccount.objects.filter(user=user).order_by("date_joined", "id")
        ],
        "audit_entries": [
            {
                "cycle": e.cycle.slug,
                "at": _when(e.created_at),
                "verb": e.verb,
                "summary": e.summary,
                "by": "you" if e.actor_id == user.pk else ("another member" if e.actor_id else "the system"),
            }
            for e in audit_events_about(user).select_related("cycle").order_by("created_at", "id")
        ],
    }


def admin_log_about(user: User) -> QuerySet[LogEntry]:
    """The Django admin's own log of changes to the person's account (it stores the email)."""
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk))


def erasable_members(cycle: Cycle) -> QuerySet[Membership]:
    return Membership.objects.filter(cycle=cycle, user__erased_at__isnull=True).select_related("user__organisation")


def other_cycles_of(user: User, cycle: Cycle) -> QuerySet[Cycle]:
    return Cycle.objects.filter(memberships__user=user).exclude(pk=cycle.pk).distinct()


def cycle_closed_on(cycle: Cycle) -> date | None:
    """The day a cycle closed: the recorded end of its last phase, Cause action."""
    if cycle.phase != Phase.CAUSE_ACTION:
        return None
    plan = PhasePlan.objects.filter(cycle=cycle, phase=Phase.CAUSE_ACTION).first()
    return plan.actual_end if plan else None


def retention_due_on(cycle: Cycle) -> date | None:
    closed = cycle_closed_on(cycle)
    if closed is None or cycle.retention_days is None:
        return None
    return closed + timedelta(days=cycle.retention_days)


def cycles_due_for_erasure(today: date) -> list[Cycle]:
    candidates = Cycle.objects.filter(
        retention_days__isnull=False, personal_data_erased_at__isnull=True, phase=Phase.CAUSE_ACTION
    )
    return [c for c in candidates if (due := retention_due_on(c)) is not None and due <= today]


def is_convener_of_all(actor: User, cycles) -> bool:
    return all(
        Membership.objects.filter(cycle=c, user=actor, role=Role.CONVENER, status=Membership.Status.ACTIVE).exists()
        for c in cycles
    )

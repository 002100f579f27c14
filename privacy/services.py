"""Writes: erasing a person, setting a cycle's retention period, erasing what a retention period ends.

Erasure anonymises rather than deletes: the account row stays with nothing that identifies the
person (accounts.services.user_anonymise), so every answer, rating, tag and membership that points at
it still counts — a cycle's published results, response counts and attrition by stakeholder group
are the same before and after. What names the person elsewhere is rewritten in the same transaction:
audit entries, invitations, the FOP histories' frozen names (whose hash chains are sealed again,
and the audit log says so), the admin's log of their account, and export files made before.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.services import ERASED_DOMAIN, ERASED_NAME, user_anonymise
from cycles.access import ONLY_CONVENER, require_role
from cycles.models import AuditEvent, Cycle, Invitation, Membership, Role, SolutionRating
from cycles.services.audit import audit_record
from findings.models import ExportJob
from matching.models import MatchReview
from privacy.selectors import (
    admin_log_about,
    audit_events_about,
    cycles_due_for_erasure,
    invitations_of,
    is_convener_of_all,
)
from workshops.fops.history import change_hash
from workshops.models import FOP, Capability, FOPChange, Vote, VoteReceipt

ERASE_NOT_ALLOWED = (
    "Only a site administrator, or the convener of every cycle this person belongs to, may erase their personal data."
)
ALREADY_ERASED = "This person's personal data has already been erased."
NOT_YOURSELF = "You cannot erase your own account here: ask a site administrator."
RETENTION_TOO_SHORT = "Keep personal data for at least 1 day after the cycle closes, or leave the period empty."
ERASED_VERB = "person.erased"
RESEALED_VERB = "fop.history_resealed"
RETENTION_VERB = "cycle.retention_set"
RETENTION_ERASED_VERB = "cycle.personal_data_erased"
MIN_NAME = 3  # shorter display names are not searched for in free text (they would match words)


def _replace_all(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = _ireplace(text, needle, ERASED_NAME)
    return text


def _ireplace(text: str, needle: str, by: str) -> str:
    lowered, target, out, start = text.lower(), needle.lower(), [], 0
    while (found := lowered.find(target, start)) != -1:
        out.append(text[start:found] + by)
        start = found + len(needle)
    return "".join(out) + text[start:]


def _needles(person: User) -> list[str]:
    names = {person.display_name, *invitations_of(person).values_list("name", flat=True)}
    # The email first: a display name may be part of it.
    return [person.email, *sorted((n for n in names if n and len(n) >= MIN_NAME), key=len, reverse=True)]


def _scrub_audit(person: User, needles: list[str], cycles: list[Cycle]) -> None:
    about = set(audit_events_about(person).values_list("pk", flat=True))
    text = Q()
    for needle in needles:
        text |= Q(summary__icontains=needle)
    naming = set(AuditEvent.objects.filter(Q(cycle__in=cycles) & text).values_list("pk", flat=True))
    for event in AuditEvent.objects.filter(pk__in=about | naming):
        event.summary = _replace_all(event.summary, needles)[:400]
        event.detail = json.loads(_replace_all(json.dumps(event.detail, ensure_ascii=False), needles))
        event.save(update_fields=["summary", "detail"])


def _scrub_own_texts(person: User, needles: list[str]) -> None:
    """What the person wrote stays (it is the cycle's work), without their own name or address in it."""
    own = [
        (Vote.objects.filter(panellist=person), "rationale"),
        (VoteReceipt.objects.filter(panellist=person), "rationale"),
        (SolutionRating.objects.filter(rater=person), "comment"),
        (Capability.objects.filter(submitted_by=person), "statement"),
        (MatchReview.objects.filter(reviewer=person), "note"),
        (FOPChange.objects.filter(actor=person), "reason"),
    ]
    for queryset, field in own:
        text = Q()
        for needle in needles:
            text |= Q(**{f"{field}__icontains": needle})
        for row in queryset.filter(text):
            setattr(row, field, _replace_all(getattr(row, field), needles))
            row.save(update_fields=[field])


def _scrub_invitations(person: User, erased_email: str) -> None:
    invitations_of(person).update(email=erased_email, name="", organisation_name="")


def _reseal_fop_histories(person: User, erased_name: str, actor: User | None) -> None:
    """Rename the person in every FOP history they are in, then recompute that chain from its first
    entry: the chain then verifies again, and an audit entry records why its hashes changed."""
    for fop in FOP.objects.filter(history__actor=person).distinct().select_related("cycle"):
        prev = ""
        for change in FOPChange.objects.filter(fop=fop).order_by("created_at", "id"):
            if change.actor_id == person.pk:
                change.actor_name = erased_name
            change.prev_hash = prev
            change.hash = change_hash(change)
            change.save(update_fields=["actor_name", "prev_hash", "hash"])
            prev = change.hash
        FOP.objects.filter(pk=fop.pk).update(history_hash=prev)
        audit_record(
            cycle=fop.cycle,
            actor=actor,
            verb=RESEALED_VERB,
            summary=f"Sealed the history of FOP “{fop.name}” again after erasing a member's name from it",
            detail={"fop": fop.pk, "history_hash": prev},
        )


def _drop_exports(cycles: list[Cycle]) -> None:
    # Files made before the erasure may show the person's name (the action plan's owners, say);
    # the exports page makes them again, with the name erased.
    # The files go once the erasure commits (a rolled-back erasure keeps them).
    for job in ExportJob.objects.filter(cycle__in=cycles):
        if job.file:
            storage, name = job.file.storage, job.file.name
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
        job.delete()


def _role_label(role: str | None) -> str:
    return Role(role).label.lower() if role in Role.values else "member"


@transaction.atomic
def person_erase(*, person: User, actor: User | None) -> User:
    """Erase a person's personal data; ``actor`` is a site administrator, the convener of every
    cycle the person belongs to, or ``None`` (the system: the retention task)."""
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.erased_at is not None:
        raise ValidationError(ALREADY_ERASED)
    cycles = list(Cycle.objects.filter(memberships__user=person).distinct())
    if actor is not None:
        if actor.pk == person.pk:
            raise PermissionDenied(NOT_YOURSELF)
        if not actor.is_superuser and not (cycles and is_convener_of_all(actor, cycles)):
            raise PermissionDenied(ERASE_NOT_ALLOWED)
    needles = _needles(person)
    roles = dict(Membership.objects.filter(user=person).values_list("cycle_id", "role"))
    erased = user_anonymise(user=person)
    # The queries below find the person by their old address: they run on the unsaved copy.
    _scrub_audit(person, needles, cycles)
    _scrub_own_texts(person, needles)
    _scrub_invitations(person, erased.email)
    _reseal_fop_histories(person, f"{ERASED_NAME} <{erased.email}>", actor)
    admin_log_about(person).update(object_repr=ERASED_NAME, change_message="")
    erased.api_tokens.all().delete()  # refused already (the account is inactive); gone now
    _drop_exports(cycles)
    for cycle in cycles:
        audit_record(
            cycle=cycle,
            actor=actor,
            verb=ERASED_VERB,
            summary=f"Erased the personal data of a member ({_role_label(roles.get(cycle.pk))}); their answers stay, anonymous",
            detail={"user_id": erased.pk},
        )
    return erased


@transaction.atomic
def cycle_retention_set(*, cycle: Cycle, actor: User | None, days: int | None) -> Cycle:
    require_role(cycle, actor, ["convener"], ONLY_CONVENER.format(act="set how long personal data is kept"))
    if days is not None and days < 1:
        raise ValidationError(RETENTION_TOO_SHORT)
    before = cycle.retention_days
    Cycle.objects.filter(pk=cycle.pk).update(retention_days=days)
    cycle.retention_days = days
    audit_record(
        cycle=cycle,
        actor=actor,
        verb=RETENTION_VERB,
        summary=f"Personal data kept {f'{days} days' if days else 'without a limit'} after the cycle closes",
        detail={"from": before, "to": days},
    )
    return cycle


@transaction.atomic
def cycle_personal_data_erase(*, cycle: Cycle) -> dict[str, int]:
    """The end of a closed cycle's retention period (the system acts): every member who takes part
    in no other cycle whose data is still kept is erased; open invitations lose their addresses.
    Members still in another cycle keep their account until that cycle's data goes too."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.personal_data_erased_at is not None:
        return {"erased": 0, "kept": 0}
    erased = kept = 0
    for membership in Membership.objects.filter(cycle=cycle, user__erased_at__isnull=True).select_related("user"):
        elsewhere = Cycle.objects.filter(
            memberships__user=membership.user, personal_data_erased_at__isnull=True
        ).exclude(pk=cycle.pk)
        if elsewhere.exists():
            kept += 1
            continue
        person_erase(person=membership.user, actor=None)
        erased += 1
    # People invited who never joined: their invitations are withdrawn and lose their addresses.
    for invitation in Invitation.objects.filter(cycle=cycle, accepted_by__isnull=True):
        invitation.email = f"erased-invitation-{invitation.pk}@{ERASED_DOMAIN}"
        invitation.name = invitation.organisation_name = ""
        invitation.revoked_at = invitation.revoked_at or timezone.now()
        invitation.save(update_fields=["email", "name", "organisation_name", "revoked_at"])
    Cycle.objects.filter(pk=cycle.pk).update(personal_data_erased_at=timezone.now())
    audit_record(
        cycle=cycle,
        actor=None,
        verb=RETENTION_ERASED_VERB,
        summary=f"The retention period ended: erased {erased} member(s); {kept} still take part in another cycle",
        detail={"erased": erased, "kept": kept},
    )
    return {"erased": erased, "kept": kept}


def retention_erase_due(*, today: date | None = None) -> dict[str, dict[str, int]]:
    """Erase the personal data of every closed cycle whose retention period has ended (idempotent)."""
    today = today or timezone.localdate()
    return {cycle.slug: cycle_personal_data_erase(cycle=cycle) for cycle in cycles_due_for_erasure(today)}

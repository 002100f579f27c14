"""Writes on Future Occupational Profiles: creation, edits, review and ratification, merge and split.

Every function here checks the caller against ``workshops.fops.policy``, locks the FOP row, writes
the change and its ``FOPChange`` history entry in one transaction, and announces the change to the
FOP's live viewers after commit. ``actor=None`` is the system (demo import, proposal runs).

A drafted description (``workshops.fops.description``) follows the FOP: every change of its
capabilities, proficiencies or role level drafts it again, as its own ``describe`` entry by the
system; a description a person wrote is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cycles.access import access_for
from cycles.models import Cycle, Membership, Role, RoleLevel
from cycles.services.audit import audit_record
from workshops import realtime
from workshops.fops.description import DESCRIBE_ACTION, DESCRIBE_REASON, description_for, description_is_drafted
from workshops.fops.history import ENTRY_PREFIX, SNAPSHOT, change_hash, fop_state
from workshops.fops.policy import (
    EDUCATORS_NO_PROFICIENCY,
    FOP_RATIFIED_LOCKED,
    ROLE_CANNOT_EDIT,
    fop_abilities,
)
from workshops.models import FOP, Capability, FOPCapability, FOPChange, FOPProposalRun, Proficiency

# Messages a person sees (and tests assert on).
NAME_REQUIRED = "A FOP needs a title."
NAME_TOO_LONG = "A FOP title has at most 200 characters."
PROFICIENCY_OUT_OF_RANGE = "A FOP proficiency is Awareness (1), Practitioner (2) or Expert (3)."
CAPABILITY_NOT_IN_CYCLE = "That capability is not an accepted capability of this cycle."
CAPABILITY_ALREADY_IN_FOP = "That capability is already in this FOP."
CAPABILITY_NOT_IN_FOP = "That capability is not in this FOP."
ROLE_LEVEL_NOT_IN_CYCLE = "That role level does not belong to this cycle."
REVIEWER_NOT_EMPLOYER = "Reviewers must be employers in this cycle: {names}."
NOT_IN_REVIEW = "Only a FOP in review can be ratified or returned."
RETURN_NEEDS_COMMENT = "Say why you return this FOP: the comment is required."
NOTHING_TO_REOPEN = "Only a ratified or returned FOP can be reopened."
MERGE_NEEDS_TWO = "Choose at least two FOPs of this cycle to merge."
MERGE_RATIFIED = "Ratified FOPs cannot be merged: reopen them first."
SPLIT_NEEDS_SOME = "Choose some, but not all, of the FOP's capabilities to split off."
DELETE_RATIFIED = "A ratified FOP cannot be deleted: reopen it first."

# The websocket group of one FOP's live review page (workshops/fops/consumers.py listens to it).
FOP_GROUP = "fop"


class FOPError(Exception):
    """An expected refusal: the message says what and where; nothing was changed."""


# --- helpers -------------------------------------------------------------------------------------


def _actor_name(actor: User | None) -> str:
    if actor is None:
        return "System"
    name = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return f"{name or actor.email} <{actor.email}>"


def _check(fop: FOP, actor: User | None, need: str) -> None:
    role = None
    if actor is not None:
        access = access_for(actor, fop.cycle)
        if access is None:
            raise PermissionDenied(ROLE_CANNOT_EDIT)
        role = access.role
    abilities = fop_abilities(role=role, user=actor, fop=fop)
    if not getattr(abilities, need):
        if role == Role.EDUCATOR:
            raise PermissionDenied(EDUCATORS_NO_PROFICIENCY)
        raise PermissionDenied(abilities.reason or ROLE_CANNOT_EDIT)


def check_convener(cycle: Cycle, actor: User | None) -> None:
    """Refuse (PermissionDenied) unless ``actor`` convenes ``cycle``; ``None`` is the system."""
    if actor is None:
        return
    access = access_for(actor, cycle)
    if access is None or not access.is_convener:
        raise PermissionDenied(ROLE_CANNOT_EDIT)


def _lock(fop: FOP) -> FOP:
    return FOP.objects.select_for_update().select_related("cycle").get(pk=fop.pk)


def _record(
    fop: FOP,
    *,
    actor: User | None,
    action: str,
    field: str,
    before=None,
    after=None,
    reason: str = "",
) -> FOPChange:
    """Append one entry to the FOP's chain (the FOP row is locked by the caller)."""
    change = FOPChange(
        fop=fop,
        actor=actor,
        actor_name=_actor_name(actor),
        action=action,
        field=field,
        before=before,
        after=after,
        reason=reason or "",
        created_at=timezone.now(),
        prev_hash=fop.history_hash,
    )
    change.hash = change_hash(change)
    change.save()
    fop.history_hash = change.hash
    FOP.objects.filter(pk=fop.pk).update(history_hash=change.hash, updated_at=change.created_at)
    return change


def _announce(fop: FOP, change: FOPChange, summary: str) -> None:
    realtime.send_after_commit(
        realtime.group_name(FOP_GROUP, fop.pk),
        {
            "type": "fop.changed",
            "fop": fop.pk,
            "action": change.action,
            "actor": change.actor_name.split(" <")[0],
            "summary": summary,
            "history_hash": change.hash,
        },
    )


def _redescribe(fop: FOP, *, drafted: bool | None = None) -> FOPChange | None:
    """Draft the description again from the FOP's capabilities, unless a person wrote it.

    ``drafted`` overrides what the history says (a FOP split off a drafted one). The FOP row is
    locked by the caller; nothing is written when the text does not change."""
    if drafted is None:
        drafted = description_is_drafted(fop)
    if not drafted:
        return None
    new = description_for(fop)
    if new == fop.description:
        return None
    before = fop.description
    fop.description = new
    fop.save(update_fields=["description"])
    change = _record(
        fop, actor=None, action=DESCRIBE_ACTION, field="description", before=before, after=new, reason=DESCRIBE_REASON
    )
    _announce(fop, change, "description drafted again")
    return change


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FOPError(NAME_REQUIRED)
    if len(name) > 200:
        raise FOPError(NAME_TOO_LONG)
    return name


def _clean_proficiency(value) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError) as exc:
        raise FOPError(PROFICIENCY_OUT_OF_RANGE) from exc
    if value not in (Proficiency.AWARENESS, Proficiency.PRACTITIONER, Proficiency.EXPERT):
        raise FOPError(PROFICIENCY_OUT_OF_RANGE)
    return value


def _cycle_capabilities(cycle: Cycle, ids: Iterable[int]) -> dict[int, Capability]:
    ids = {int(i) for i in ids}
    found = {
        c.pk: c
        for c in Capability.objects.filter(cycle=cycle, pk__in=ids).exclude(
            status__in=[Capability.Status.REJECTED, Capability.Status.MERGED]
        )
    }
    if len(found) != len(ids):
        raise FOPError(CAPABILITY_NOT_IN_CYCLE)
    return found


# --- creation ------------------------------------------------------------------------------------


@transaction.atomic
def fop_create(
    *,
    cycle: Cycle,
    actor: User | None,
    name: str,
    role_level: RoleLevel | None = None,
    description: str = "",
    entries: Mapping[int, int] | None = None,
    priority: bool = False,
    source: str = FOP.Source.MANUAL,
    status: str = FOP.Status.PROPOSED,
    suggested_names: list | None = None,
    proposal_run: FOPProposalRun | None = None,
    reason: str = "",
    action: str = "create",
) -> FOP:
    check_convener(cycle, actor)
    name = _clean_name(name)
    if role_level is not None and role_level.cycle_id != cycle.pk:
        raise FOPError(ROLE_LEVEL_NOT_IN_CYCLE)
    entries = {int(k): _clean_proficiency(v) for k, v in (entries or {}).items()}
    _cycle_capabilities(cycle, entries)
    fop = FOP.objects.create(
        cycle=cycle,
        role_level=role_level,
        name=name,
        description=(description or "").strip(),
        priority=priority,
        source=source,
        status=status,
        suggested_names=list(suggested_names or []),
        proposal_run=proposal_run,
    )
    FOPCapability.objects.bulk_create(
        [FOPCapability(fop=fop, capability_id=cap_id, proficiency=prof) for cap_id, prof in sorted(entries.items())]
    )
    change = _record(fop, actor=actor, action=action, field=SNAPSHOT, after=fop_state(fop), reason=reason)
    _announce(fop, change, f"{fop.name} created")
    return fop


# --- edits ---------------------------------------------------------------------------------------


@transaction.atomic
def fop_update(
    *,
    fop: FOP,
    actor: User | None,
    name: str | None = None,
    description: str | None = None,
    priority: bool | None = None,
    role_level: RoleLevel | None | bool = False,
    reason: str = "",
) -> FOP:
    """Change title, description, priority (and, for the convener, role level); one entry per field."""
    fop = _lock(fop)
    _check(fop, actor, "edit")
    changes = []
    if name is not None:
        new = _clean_name(name)
        if new != fop.name:
            changes.append(("name", "rename", fop.name, new))
    if description is not None:
        new = description.strip()
        if new != fop.description:
            changes.append(("description", "edit_description", fop.description, new))
    if priority is not None and bool(priority) != fop.priority:
        changes.append(("priority", "mark_priority" if priority else "unmark_priority", fop.priority, bool(priority)))
    if role_level is not False:
        check_convener(fop.cycle, actor)
        if role_level is not None and role_level.cycle_id != fop.cycle_id:
            raise FOPError(ROLE_LEVEL_NOT_IN_CYCLE)
        new_id = role_level.pk if role_level is not None else None
        if new_id != fop.role_level_id:
            changes.append(("role_level", "set_role_level", fop.role_level_id, new_id))
    for field, action, before, after in changes:
        setattr(fop, field if field != "role_level" else "role_level_id", after)
        fop.save(update_fields=[field if field != "role_level" else "role_level"])
        change = _record(fop, actor=actor, action=action, field=field, before=before, after=after, reason=reason)
        _announce(fop, change, f"{field.replace('_', ' ')} changed")
    if any(field == "role_level" for field, *_ in changes):
        _redescribe(fop)  # the drafted text names the role level
    return fop


@transaction.atomic
def fop_add_capability(
    *, fop: FOP, actor: User | None, capability: Capability, proficiency: int, reason: str = ""
) -> FOP:
    fop = _lock(fop)
    _check(fop, actor, "edit")
    proficiency = _clean_proficiency(proficiency)
    _cycle_capabilities(fop.cycle, [capability.pk])
    if FOPCapability.objects.filter(fop=fop, capability=capability).exists():
        raise FOPError(CAPABILITY_ALREADY_IN_FOP)
    FOPCapability.objects.create(fop=fop, capability=capability, proficiency=proficiency)
    change = _record(
        fop,
        actor=actor,
        action="add_capability",
        field=f"{ENTRY_PREFIX}{capability.pk}",
        after=proficiency,
        reason=reason,
    )
    _announce(fop, change, f"{capability.ref} added at {Proficiency(proficiency).label}")
    _redescribe(fop)
    return fop


@transaction.atomic
def fop_remove_capability(*, fop: FOP, actor: User | None, capability: Capability, reason: str = "") -> FOP:
    fop = _lock(fop)
    _check(fop, actor, "edit")
    entry = FOPCapability.objects.filter(fop=fop, capability=capability).first()
    if entry is None:
        raise FOPError(CAPABILITY_NOT_IN_FOP)
    before = entry.proficiency
    entry.delete()
    change = _record(
        fop,
        actor=actor,
        action="remove_capability",
        field=f"{ENTRY_PREFIX}{capability.pk}",
        before=before,
        reason=reason,
    )
    _announce(fop, change, f"{capability.ref} removed")
    _redescribe(fop)
    return fop


@transaction.atomic
def fop_set_proficiency(
    *, fop: FOP, actor: User | None, capability: Capability, proficiency: int, reason: str = ""
) -> FOP:
    """Uprate or downrate one capability's required proficiency."""
    fop = _lock(fop)
    _check(fop, actor, "edit")
    proficiency = _clean_proficiency(proficiency)
    entry = FOPCapability.objects.filter(fop=fop, capability=capability).first()
    if entry is None:
        raise FOPError(CAPABILITY_NOT_IN_FOP)
    if entry.proficiency == proficiency:
        return fop
    before = entry.proficiency
    entry.proficiency = proficiency
    entry.save(update_fields=["proficiency"])
    action = "uprate" if proficiency > before else "downrate"
    change = _record(
        fop,
        actor=actor,
        action=action,
        field=f"{ENTRY_PREFIX}{capability.pk}",
        before=before,
        after=proficiency,
        reason=reason,
    )
    _announce(fop, change, f"{capability.ref} {action}d to {Proficiency(proficiency).label}")
    _redescribe(fop)
    return fop


# --- review and ratification ---------------------------------------------------------------------


def _set_status(
    fop: FOP, actor: User | None, status: str, action: str, *, comment: str | None = None, reason: str = ""
) -> FOPChange:
    """Change the status (and the reviewer's comment, when given), each with its own entry."""
    before = fop.status
    fop.status = status
    fop.save(update_fields=["status"])
    change = _record(fop, actor=actor, action=action, field="status", before=before, after=status, reason=reason)
    if comment is not None and fop.status_comment != comment:
        previous = fop.status_comment
        fop.status_comment = comment
        fop.save(update_fields=["status_comment"])
        change = _record(
            fop, actor=actor, action=action, field="status_comment", before=previous, after=comment, reason=reason
        )
    return change


@transaction.atomic
def fop_assign_reviewers(*, fop: FOP, actor: User | None, reviewers: Iterable[User], reason: str = "") -> FOP:
    """The convener assigns employer reviewers; a proposed or returned FOP goes into review."""
    fop = _lock(fop)
    _check(fop, actor, "manage")
    reviewers = list(reviewers)
    employer_ids = set(
        Membership.objects.filter(
            cycle=fop.cycle, role=Role.EMPLOYER, status=Membership.Status.ACTIVE, user__in=reviewers
        ).values_list("user_id", flat=True)
    )
    wrong = [r for r in reviewers if r.pk not in employer_ids]
    if wrong:
        raise FOPError(REVIEWER_NOT_EMPLOYER.format(names=", ".join(sorted(str(r) for r in wrong))))
    before = sorted(fop.reviewers.values_list("id", flat=True))
    after = sorted({r.pk for r in reviewers})
    if before != after:
        fop.reviewers.set(after)
        change = _record(
            fop, actor=actor, action="assign_reviewers", field="reviewers", before=before, after=after, reason=reason
        )
        _announce(fop, change, "reviewers assigned")
    if after and fop.status in (FOP.Status.PROPOSED, FOP.Status.RETURNED):
        change = _set_status(fop, actor, FOP.Status.IN_REVIEW, "send_for_review", reason=reason)
        _announce(fop, change, "sent for review")
    return fop


@transaction.atomic
def fop_ratify(*, fop: FOP, actor: User | None, comment: str = "") -> FOP:
    fop = _lock(fop)
    if fop.status != FOP.Status.IN_REVIEW:
        if fop.status == FOP.Status.RATIFIED:
            raise FOPError(FOP_RATIFIED_LOCKED)
        raise FOPError(NOT_IN_REVIEW)
    _check(fop, actor, "review")
    comment = (comment or "").strip()
    change = _set_status(fop, actor, FOP.Status.RATIFIED, "ratify", comment=comment, reason=comment)
    _announce(fop, change, "ratified")
    audit_record(
        cycle=fop.cycle, actor=actor, verb="fop_ratified", summary=f"FOP “{fop.name}” ratified", detail={"fop": fop.pk}
    )
    return fop


@transaction.atomic
def fop_return(*, fop: FOP, actor: User | None, comment: str) -> FOP:
    fop = _lock(fop)
    comment = (comment or "").strip()
    if fop.status != FOP.Status.IN_REVIEW:
        raise FOPError(NOT_IN_REVIEW)
    _check(fop, actor, "review")
    if not comment:
        raise FOPError(RETURN_NEEDS_COMMENT)
    change = _set_status(fop, actor, FOP.Status.RETURNED, "return", comment=comment, reason=comment)
    _announce(fop, change, "returned with a comment")
    audit_record(
        cycle=fop.cycle,
        actor=actor,
        verb="fop_returned",
        summary=f"FOP “{fop.name}” returned",
        detail={"fop": fop.pk, "comment": comment},
    )
    return fop


@transaction.atomic
def fop_reopen(*, fop: FOP, actor: User | None, reason: str = "") -> FOP:
    """The convener reopens a ratified or returned FOP: back in review (or proposed without reviewers)."""
    fop = _lock(fop)
    _check(fop, actor, "manage")
    if fop.status not in (FOP.Status.RATIFIED, FOP.Status.RETURNED):
        raise FOPError(NOTHING_TO_REOPEN)
    target = FOP.Status.IN_REVIEW if fop.reviewers.exists() else FOP.Status.PROPOSED
    change = _set_status(fop, actor, target, "reopen", comment="", reason=reason)
    _announce(fop, change, "reopened")
    return fop


# --- merge, split, delete (the convener) ---------------------------------------------------------


@transaction.atomic
def fop_merge(*, cycle: Cycle, actor: User | None, fops: list[FOP], name: str = "", reason: str = "") -> FOP:
    """Merge FOPs into the first: entries are united (the higher proficiency wins), the others go.

    The surviving FOP's history records a full snapshot with what each merged FOP held.
    """
    check_convener(cycle, actor)
    ids = [f.pk for f in fops]
    locked = list(FOP.objects.select_for_update().filter(cycle=cycle, pk__in=ids))
    by_id = {f.pk: f for f in locked}
    if len(set(ids)) < 2 or len(by_id) != len(set(ids)):
        raise FOPError(MERGE_NEEDS_TWO)
    ordered = [by_id[i] for i in dict.fromkeys(ids)]
    if any(f.status == FOP.Status.RATIFIED for f in ordered):
        raise FOPError(MERGE_RATIFIED)
    target, others = ordered[0], ordered[1:]
    merged_states = {str(o.pk): fop_state(o) for o in others}
    entries = dict(target.entries.values_list("capability_id", "proficiency"))
    for other in others:
        for cap_id, prof in other.entries.values_list("capability_id", "proficiency"):
            entries[cap_id] = max(prof, entries.get(cap_id, 0))
    reviewer_ids = set(target.reviewers.values_list("id", flat=True))
    for other in others:
        reviewer_ids |= set(other.reviewers.values_list("id", flat=True))
    target.entries.all().delete()
    FOPCapability.objects.bulk_create(
        [FOPCapability(fop=target, capability_id=c, proficiency=p) for c, p in sorted(entries.items())]
    )
    target.reviewers.set(sorted(reviewer_ids))
    if name:
        target.name = _clean_name(name)
    if target.source == FOP.Source.PROPOSED:
        target.source = FOP.Source.MANUAL  # a hand-made merge is no longer a bare proposal
    target.save(update_fields=["name", "source"])
    for other in others:
        other.delete()
    change = _record(
        target,
        actor=actor,
        action="merge",
        field=SNAPSHOT,
        before={"merged": merged_states},
        after=fop_state(target),
        reason=reason,
    )
    _announce(target, change, f"merged with {len(others)} other FOP(s)")
    _redescribe(target)
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="fop_merged",
        summary=f"FOPs merged into “{target.name}”",
        detail={"into": target.pk, "merged": [o for o in merged_states]},
    )
    return target


@transaction.atomic
def fop_split(*, fop: FOP, actor: User | None, capability_ids: Iterable[int], new_name: str, reason: str = "") -> FOP:
    """Move some capabilities of a FOP into a new FOP at the same role level."""
    fop = _lock(fop)
    _check(fop, actor, "manage")
    if fop.status == FOP.Status.RATIFIED:
        raise FOPError(FOP_RATIFIED_LOCKED)
    new_name = _clean_name(new_name)
    capability_ids = {int(c) for c in capability_ids}
    entries = dict(fop.entries.values_list("capability_id", "proficiency"))
    if not capability_ids or not capability_ids <= set(entries) or capability_ids == set(entries):
        raise FOPError(SPLIT_NEEDS_SOME)
    moved = {c: entries[c] for c in sorted(capability_ids)}
    drafted = description_is_drafted(fop)
    FOPCapability.objects.filter(fop=fop, capability_id__in=capability_ids).delete()
    for cap_id, prof in moved.items():
        _record(fop, actor=actor, action="split_off", field=f"{ENTRY_PREFIX}{cap_id}", before=prof, reason=reason)
    new = fop_create(
        cycle=fop.cycle,
        actor=actor,
        name=new_name,
        role_level=fop.role_level,
        entries=moved,
        source=FOP.Source.MANUAL,
        reason=reason or f"Split from “{fop.name}”",
        action="split_from",
    )
    change = fop.history.order_by("-id").first()
    _announce(fop, change, f"{len(moved)} capabilities split into “{new.name}”")
    _redescribe(fop, drafted=drafted)
    _redescribe(new, drafted=drafted)  # a part of a drafted FOP gets its own drafted description
    return new


@transaction.atomic
def fop_delete(*, fop: FOP, actor: User | None, reason: str = "") -> None:
    fop = _lock(fop)
    _check(fop, actor, "manage")
    if fop.status == FOP.Status.RATIFIED:
        raise FOPError(DELETE_RATIFIED)
    audit_record(
        cycle=fop.cycle,
        actor=actor,
        verb="fop_deleted",
        summary=f"FOP “{fop.name}” deleted",
        detail={"fop": fop.pk, "state": fop_state(fop), "reason": reason},
    )
    realtime.send_after_commit(
        realtime.group_name(FOP_GROUP, fop.pk),
        {
            "type": "fop.changed",
            "fop": fop.pk,
            "action": "delete",
            "actor": _actor_name(actor).split(" <")[0],
            "summary": "deleted",
            "history_hash": "",
        },
    )
    fop.delete()

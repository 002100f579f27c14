"""Writes of the Delphi: the plan, rounds and votes.

``vote_cast`` is the single path every vote takes (websocket, htmx POST, simulation). A vote is
acknowledged only once committed; a resent client id gets the acknowledgement it got the first
time and changes nothing. Progress broadcasts go out after commit and never fail a vote.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle, Membership, Role, RoleLevel
from cycles.services.audit import audit_record
from workshops.join.services import join_code_for_round
from workshops.models import Capability, DelphiItem, DelphiPlan, ItemResult, Round, Vote, VoteReceipt

logger = logging.getLogger(__name__)

# Messages that tests and clients rely on.
PLAN_LOCKED = "The Delphi plan is locked: round 1 has opened, so its rules can no longer change."
PLAN_NO_VOTING_ROLES = "Choose at least one role that votes."
PLAN_BAD_ROLE = "“{role}” is not a role that can vote (choose technologist, employer or educator)."
ROUND_NOT_OPEN = "This round is not open: votes are no longer accepted."
ROUND_NOT_FOUND = "There is no such round in this cycle."
ITEM_NOT_IN_ROUND = "This item is not part of this round."
VALUE_OUT_OF_RANGE = "A proficiency must be 0 (Not needed), 1 (Awareness), 2 (Practitioner) or 3 (Expert)."
CANT_JUDGE_NOT_ALLOWED = "This Delphi's plan does not offer “I can't judge this”: choose a proficiency."
CANT_JUDGE_WITH_VALUE = "Answer either a proficiency or “I can't judge this”, not both."
NOT_A_MEMBER = "You are not a member of this cycle."
NOT_A_VOTER = "Your role in this cycle does not vote in this Delphi."
CLIENT_ID_TOO_LONG = "The client id must be at most 64 characters."
CLIENT_ID_NOT_TEXT = "The client id must be text without control characters."
RATIONALE_TOO_LONG = "A rationale must be at most {limit} characters."
RATIONALE_NOT_TEXT = "A rationale must be text."
RATIONALE_BAD_CHARACTER = "A rationale cannot contain a NUL character or an unpaired surrogate."
ROUND_STILL_OPEN = "Round {number} is still open: close it before opening another."
NO_ITEMS = "There is nothing to vote on yet: accept capabilities and define role levels first."
MAX_ROUNDS_REACHED = "The plan allows {max_rounds} rounds and all of them have run."
NOTHING_TO_CARRY = "Every item has reached consensus or is stable: the Delphi is complete."
ITEM_NOT_PROPOSED = "Item {item} is not among the items proposed for this round."
NO_ITEMS_CHOSEN = "Choose at least one item for the round."
DEADLINE_IN_PAST = "The deadline must be in the future."
ROUND_ALREADY_CLOSED = "This round is already closed."

VOTING_ROLE_CHOICES = [Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR]
DEFAULT_VOTING_ROLES = [str(Role.TECHNOLOGIST), str(Role.EMPLOYER)]
RATIONALE_LIMIT = 2000
CLIENT_ID_LIMIT = 64
#: Item ids are database keys: anything outside a 32-bit key is no item (and must not reach SQL,
#: where it would overflow the column instead of being refused).
ITEM_ID_MAX = 2**31 - 1


class DelphiError(Exception):
    """An expected refusal: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VoteAck:
    client_id: str
    round: int
    item: int
    value: int | None
    rationale: str
    sequence: int
    cant_judge: bool = False

    def as_message(self) -> dict:
        # Built field by field: dataclasses.asdict deep-copies recursively, on every vote.
        return {
            "type": "ack", "client_id": self.client_id, "round": self.round, "item": self.item, "value": self.value,
            "rationale": self.rationale, "sequence": self.sequence, "cant_judge": self.cant_judge,
        }  # fmt: skip


def _announce(round_id: int) -> None:
    # Imported here: the realtime module imports selectors, which import the models only.
    from workshops.delphi.realtime import announce_round_change

    transaction.on_commit(lambda: announce_round_change(round_id))


# --- Plan ----------------------------------------------------------------------------------------


def delphi_plan_ensure(*, cycle: Cycle) -> DelphiPlan:
    plan, _ = DelphiPlan.objects.get_or_create(cycle=cycle, defaults={"voting_roles": list(DEFAULT_VOTING_ROLES)})
    return plan


@transaction.atomic
def delphi_plan_update(
    *,
    cycle: Cycle,
    actor: User | None,
    voting_roles: list[str],
    min_responses: int,
    agreement_threshold: float,
    iqr_max: float,
    stability_threshold: float,
    max_rounds: int,
    feedback_mode: str,
    live_quorum: int,
    require_group_consensus: bool = False,
    allow_cant_judge: bool = False,
) -> DelphiPlan:
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the Delphi plan"))
    delphi_plan_ensure(cycle=cycle)
    plan = DelphiPlan.objects.select_for_update().get(cycle=cycle)
    if plan.is_locked:
        raise DelphiError("plan_locked", PLAN_LOCKED)
    if not voting_roles:
        raise DelphiError("invalid_plan", PLAN_NO_VOTING_ROLES)
    for role in voting_roles:
        if role not in VOTING_ROLE_CHOICES:
            raise DelphiError("invalid_plan", PLAN_BAD_ROLE.format(role=role))
    plan.voting_roles = [str(r) for r in voting_roles]
    plan.min_responses = min_responses
    plan.agreement_threshold = agreement_threshold
    plan.iqr_max = iqr_max
    plan.stability_threshold = stability_threshold
    plan.max_rounds = max_rounds
    plan.feedback_mode = feedback_mode
    plan.live_quorum = live_quorum
    plan.require_group_consensus = bool(require_group_consensus)
    plan.allow_cant_judge = bool(allow_cant_judge)
    plan.updated_at = timezone.now()
    plan.full_clean()
    plan.save()
    audit_record(
        cycle=cycle.pk,
        actor=actor,
        verb="delphi.plan_updated",
        summary="Updated the Delphi plan",
        detail={"plan": _plan_dict(plan)},
    )
    return plan


def _plan_dict(plan: DelphiPlan) -> dict:
    return {
        "voting_roles": plan.voting_roles,
        "min_responses": plan.min_responses,
        "agreement_threshold": plan.agreement_threshold,
        "iqr_max": plan.iqr_max,
        "stability_threshold": plan.stability_threshold,
        "max_rounds": plan.max_rounds,
        "feedback_mode": plan.feedback_mode,
        "live_quorum": plan.live_quorum,
        "require_group_consensus": plan.require_group_consensus,
        "allow_cant_judge": plan.allow_cant_judge,
    }


#: The methods appendix's fields the data cannot fill, in the order the appendix prints them.
APPENDIX_FIELDS = {
    "registration": "Protocol registration",
    "ethics": "Ethics approval",
    "funding": "Funding",
    "conflicts": "Conflicts of interest",
    "recruitment": "How panellists were identified and invited",
}
APPENDIX_NOTE_LIMIT = 4000
APPENDIX_NOTE_TOO_LONG = "Each field of the appendix may hold at most {limit} characters."


@transaction.atomic
def delphi_appendix_update(*, cycle: Cycle, actor: User | None, notes: dict[str, str]) -> DelphiPlan:
    """Save what the convener writes into the methods appendix. Not a rule of the Delphi, so
    allowed after the plan is locked; audited like the plan."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="edit the methods appendix"))
    delphi_plan_ensure(cycle=cycle)
    plan = DelphiPlan.objects.select_for_update().get(cycle=cycle)
    clean = {}
    for key in APPENDIX_FIELDS:
        text = str(notes.get(key) or "").strip()
        if len(text) > APPENDIX_NOTE_LIMIT:
            raise DelphiError("invalid_appendix", APPENDIX_NOTE_TOO_LONG.format(limit=APPENDIX_NOTE_LIMIT))
        if text:
            clean[key] = text
    plan.appendix_notes = clean
    plan.save(update_fields=["appendix_notes"])
    audit_record(
        cycle=cycle.pk,
        actor=actor,
        verb="delphi.appendix_updated",
        summary="Updated the Delphi methods appendix",
        detail={"fields": sorted(clean)},
    )
    return plan


# --- Items and rounds ----------------------------------------------------------------------------


def delphi_items_sync(*, cycle: Cycle) -> int:
    """Create an item for every accepted capability × role level of the cycle (existing ones kept)."""
    capabilities = list(
        Capability.objects.filter(cycle=cycle, status=Capability.Status.ACCEPTED).values_list("pk", flat=True)
    )
    levels = list(RoleLevel.objects.filter(cycle=cycle).values_list("pk", flat=True))
    existing = set(DelphiItem.objects.filter(cycle=cycle).values_list("capability_id", "role_level_id"))
    new = [
        DelphiItem(cycle=cycle, capability_id=c, role_level_id=r)
        for c in capabilities
        for r in levels
        if (c, r) not in existing
    ]
    DelphiItem.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def round_proposed_item_ids(*, cycle: Cycle) -> list[int]:
    """Items for the next round: all items for round 1, else the previous round's undecided items."""
    last = Round.objects.filter(cycle=cycle).order_by("-number").first()
    if last is None:
        capabilities = Capability.objects.filter(cycle=cycle, status=Capability.Status.ACCEPTED)
        return list(
            DelphiItem.objects.filter(cycle=cycle, capability__in=capabilities)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    # Undecided items, less those the convener replaced or dropped since, plus the items the
    # convener's changes wrote for the next round (workshops/delphi/changes.py).
    carried = (
        ItemResult.objects.filter(round=last, consensus=False, stable=False)
        .exclude(item__outcome__in=[DelphiItem.Outcome.REPLACED, DelphiItem.Outcome.DROPPED])
        .values_list("item_id", flat=True)
    )
    written = DelphiItem.objects.filter(changes_in__cycle=cycle, changes_in__after_round=last.number).exclude(
        outcome__in=[DelphiItem.Outcome.REPLACED, DelphiItem.Outcome.DROPPED]
    )
    return sorted(set(carried) | set(written.values_list("pk", flat=True)))


def round_open(
    *, cycle: Cycle, actor: User | None, deadline: datetime | None = None, item_ids: list[int] | None = None
) -> Round:
    """Open the next round. Round 1 locks the plan and creates the items.

    A last round past its deadline is closed first, in its own transaction, as the scheduled task
    would have: it stays closed even when the next round cannot open (the plan's last round)."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="open a round"))
    last = Round.objects.filter(cycle=cycle).order_by("-number").first()
    if last is not None and last.status == Round.Status.OPEN:
        round_close_if_due(round_id=last.pk)
    return _round_open(cycle=cycle, actor=actor, deadline=deadline, item_ids=item_ids)


@transaction.atomic
def _round_open(*, cycle: Cycle, actor: User | None, deadline: datetime | None, item_ids: list[int] | None) -> Round:
    plan = delphi_plan_ensure(cycle=cycle)
    plan = DelphiPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.voting_roles:
        raise DelphiError("invalid_plan", PLAN_NO_VOTING_ROLES)
    if deadline is not None and deadline <= timezone.now():
        raise DelphiError("invalid_deadline", DEADLINE_IN_PAST)
    last = Round.objects.filter(cycle=cycle).order_by("-number").first()
    if last is not None and last.status == Round.Status.OPEN:
        raise DelphiError("round_open", ROUND_STILL_OPEN.format(number=last.number))
    if last is None:
        delphi_items_sync(cycle=cycle)
    else:
        if last.number >= plan.max_rounds:
            raise DelphiError("max_rounds", MAX_ROUNDS_REACHED.format(max_rounds=plan.max_rounds))
        if last.aggregated_at is None:
            from workshops.delphi.aggregation import round_aggregate

            round_aggregate(round_id=last.pk)
    proposed = round_proposed_item_ids(cycle=cycle)
    if not proposed:
        raise DelphiError("no_items", NO_ITEMS if last is None else NOTHING_TO_CARRY)
    if item_ids is not None:
        chosen = [int(i) for i in item_ids]
        missing = [i for i in chosen if i not in set(proposed)]
        if missing:
            raise DelphiError("invalid_items", ITEM_NOT_PROPOSED.format(item=missing[0]))
        if not chosen:
            raise DelphiError("invalid_items", NO_ITEMS_CHOSEN)
        proposed = chosen
    now = timezone.now()
    rnd = Round.objects.create(
        cycle=cycle,
        number=(last.number + 1) if last else 1,
        status=Round.Status.OPEN,
        opened_at=now,
        opened_by=actor,
        deadline=deadline,
        results_revealed=plan.is_live,
    )
    rnd.items.set(proposed)
    join_code_for_round(rnd=rnd, actor=actor)
    if not plan.is_locked:
        plan.locked_at = now
        plan.save(update_fields=["locked_at"])
    audit_record(cycle=cycle.pk, actor=actor, verb="delphi.round_opened", summary=f"Opened Delphi round {rnd.number} with {len(proposed)} items", detail={"round": rnd.number, "items": len(proposed)})  # fmt: skip
    return rnd


def round_close(*, round_id: int, actor: User | None = None, reason: str = Round.CloseReason.CONVENER) -> Round:
    """Close a round (idempotent) and aggregate it after commit. ``actor=None``: the system (the
    deadline task)."""
    with transaction.atomic():
        rnd = Round.objects.select_for_update().get(pk=round_id)
        require_role(rnd.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="close a round"))
        if rnd.status == Round.Status.CLOSED:
            return rnd
        rnd.status = Round.Status.CLOSED
        rnd.closed_at = timezone.now()
        rnd.closed_by = actor
        rnd.close_reason = reason
        rnd.sequence = F("sequence") + 1
        rnd.save(update_fields=["status", "closed_at", "closed_by", "close_reason", "sequence"])
        rnd.refresh_from_db()
        why = "at its deadline" if reason == Round.CloseReason.DEADLINE else "by the convener"
        audit_record(
            cycle=rnd.cycle_id,
            actor=actor,
            verb="delphi.round_closed",
            summary=f"Closed Delphi round {rnd.number} {why}",
            detail={"round": rnd.number},
        )
        _announce(rnd.pk)
        transaction.on_commit(lambda: _enqueue_aggregation(rnd.pk))
    return rnd


def _enqueue_aggregation(round_id: int) -> None:
    from workshops.delphi.tasks import aggregate_round

    aggregate_round.delay(round_id)


def round_close_if_due(*, round_id: int, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    due = Round.objects.filter(pk=round_id, status=Round.Status.OPEN, deadline__lte=now).exists()
    if due:
        round_close(round_id=round_id, reason=Round.CloseReason.DEADLINE)
    return due


def rounds_close_due(*, now: datetime | None = None) -> list[int]:
    """Close every open round whose deadline has passed; returns their ids."""
    now = now or timezone.now()
    ids = list(Round.objects.filter(status=Round.Status.OPEN, deadline__lte=now).values_list("pk", flat=True))
    for round_id in ids:
        round_close(round_id=round_id, reason=Round.CloseReason.DEADLINE)
    return ids


@transaction.atomic
def round_reveal(*, round_id: int, actor: User | None, revealed: bool) -> Round:
    rnd = Round.objects.select_for_update().get(pk=round_id)
    require_role(rnd.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="show or hide a round's results"))
    rnd.results_revealed = revealed
    rnd.sequence = F("sequence") + 1
    rnd.save(update_fields=["results_revealed", "sequence"])
    rnd.refresh_from_db()
    verb = "Revealed" if revealed else "Hid"
    audit_record(cycle=rnd.cycle_id, actor=actor, verb="delphi.results_revealed", summary=f"{verb} the group results of round {rnd.number}", detail={"round": rnd.number, "revealed": revealed})  # fmt: skip
    _announce(rnd.pk)
    return rnd


@transaction.atomic
def round_discuss(*, round_id: int, actor: User | None, item_id: object) -> Round:
    """Set (or, with ``item_id=None``, clear) the item the room is discussing: the presenter shows
    it large and panellists' screens are told (a ``discussing`` message after commit). Allowed in
    a closed round too (the room reviews its results); setting the item already set changes
    nothing. Like reveal/hide it is a change of the round: the sequence moves and the round's
    state is announced, so a screen that orders messages by sequence is never left with a
    progress message older than the ``discussing`` it applied."""
    rnd = Round.objects.select_for_update().get(pk=round_id)
    require_role(rnd.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="choose the item the room discusses"))
    item = None
    if item_id is not None and item_id != "":
        item_id = _as_int(item_id, "item_not_in_round", ITEM_NOT_IN_ROUND)
        if 0 < item_id <= ITEM_ID_MAX:
            item = rnd.items.select_related("capability", "role_level").filter(pk=item_id).first()
        if item is None:
            raise DelphiError("item_not_in_round", ITEM_NOT_IN_ROUND)
    if rnd.discussing_id == (item.pk if item else None):
        return rnd
    rnd.discussing = item
    rnd.sequence = F("sequence") + 1
    rnd.save(update_fields=["discussing", "sequence"])
    rnd.refresh_from_db()
    if item is None:
        summary = f"Stopped discussing an item of Delphi round {rnd.number}"
    else:
        summary = f"Discussing {item.capability.ref} at {item.role_level.name} in Delphi round {rnd.number}"
    audit_record(cycle=rnd.cycle_id, actor=actor, verb="delphi.discussing", summary=summary, detail={"round": rnd.number, "item": rnd.discussing_id})  # fmt: skip
    # Imported here, as in _announce: the realtime module imports selectors.
    from workshops.delphi.realtime import announce_discussing

    announce_discussing(rnd)
    _announce(rnd.pk)
    return rnd


# --- Votes ---------------------------------------------------------------------------------------


def _as_int(value, code: str, message: str) -> int:
    if isinstance(value, bool):
        raise DelphiError(code, message)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise DelphiError(code, message)


def _storable(text: str) -> bool:
    """Text the database can store: no NUL (PostgreSQL refuses it) and valid UTF-8 (no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def vote_cast(
    *,
    round_id: int,
    panellist: User,
    item_id: object,
    value: object,
    rationale: object = "",
    client_id: object = "",
    cant_judge: object = False,
    now: datetime | None = None,
) -> VoteAck:
    """Record (or change) a panellist's answer to one item of an open round: a proficiency
    ``value`` 0–3, or ``cant_judge=True`` and no value ("I can't judge this", if the plan offers
    it). See the module doc."""
    vote = vote_prepare(
        round_id=round_id, panellist=panellist, item_id=item_id, value=value, rationale=rationale,
        client_id=client_id, cant_judge=cant_judge, now=now,
    )  # fmt: skip
    client_id = vote["client"]
    try:
        if connection.vendor == "postgresql":
            round_pk, sequence = _cast_in_one_statement(vote)
        else:
            rnd = _vote_context(
                round_id=vote["round"], panellist_pk=panellist.pk, item_id=vote["item"], client_id=client_id
            )
            round_pk = _refused_or_pk(rnd, cant_judge=vote["cant_judge"], now=vote["now"])
            with transaction.atomic():
                sequence = _store_vote(
                    round_pk, panellist.pk, vote["item"], vote["value"], vote["cant_judge"], vote["rationale"],
                    client_id, vote["now"],
                )  # fmt: skip
    except _AlreadyAcknowledged as done:
        return _ack(done.receipt)
    except IntegrityError:
        # The same client id raced itself (a resend while the first was in flight, perhaps on
        # another server): answer with the acknowledgement that won.
        receipt = _receipt(vote["round"], panellist.pk, client_id) if client_id else None
        if receipt is None:
            raise
        return _ack(receipt)
    return vote_ack(vote, round_pk=round_pk, sequence=sequence)


def vote_prepare(
    *,
    round_id: int,
    panellist: User,
    item_id: object,
    value: object,
    rationale: object = "",
    client_id: object = "",
    cant_judge: object = False,
    now: datetime | None = None,
) -> dict:
    """The checks of a vote's own data (no database), in the order ``vote_cast`` answers them:
    the vote as the parameters of its statement, or ``DelphiError``."""
    if not isinstance(cant_judge, bool):
        raise DelphiError("invalid_value", CANT_JUDGE_WITH_VALUE)
    if cant_judge:
        if value is not None and value != "":
            raise DelphiError("invalid_value", CANT_JUDGE_WITH_VALUE)
        value = None
    else:
        value = _as_int(value, "invalid_value", VALUE_OUT_OF_RANGE)
        if value not in (0, 1, 2, 3):
            raise DelphiError("invalid_value", VALUE_OUT_OF_RANGE)
    item_id = _as_int(item_id, "item_not_in_round", ITEM_NOT_IN_ROUND)
    if not 0 < item_id <= ITEM_ID_MAX:
        raise DelphiError("item_not_in_round", ITEM_NOT_IN_ROUND)
    client_id = "" if client_id is None else client_id
    if not isinstance(client_id, str) or not _storable(client_id) or not client_id.isprintable():
        raise DelphiError("invalid_request", CLIENT_ID_NOT_TEXT)
    if len(client_id) > CLIENT_ID_LIMIT:
        raise DelphiError("invalid_request", CLIENT_ID_TOO_LONG)
    rationale = "" if rationale is None else rationale
    if not isinstance(rationale, str):
        raise DelphiError("invalid_rationale", RATIONALE_NOT_TEXT)
    if not _storable(rationale):
        raise DelphiError("invalid_rationale", RATIONALE_BAD_CHARACTER)
    rationale = rationale.strip()
    if len(rationale) > RATIONALE_LIMIT:
        raise DelphiError("invalid_rationale", RATIONALE_TOO_LONG.format(limit=RATIONALE_LIMIT))
    return {
        "round": int(round_id), "user": panellist.pk, "item": item_id, "value": value, "cant_judge": cant_judge,
        "rationale": rationale, "client": client_id, "now": now or timezone.now(),
    }  # fmt: skip


def vote_ack(vote: dict, *, round_pk: int, sequence: int) -> VoteAck:
    """The acknowledgement of a stored ``vote`` (from ``vote_prepare``)."""
    return VoteAck(
        client_id=vote["client"], round=round_pk, item=vote["item"], value=vote["value"],
        rationale=vote["rationale"], sequence=sequence, cant_judge=vote["cant_judge"],
    )  # fmt: skip


# One read for every check of a vote (the hot path of a live room): the round, the caller's role,
# the plan's voting roles and can't-judge option, whether the item is in the round and any
# receipt for this client id.
# Plain SQL: compiling the equivalent ORM query with three subqueries cost more than running it.
# (Table names come from the models; every value is bound.)
_VOTE_CONTEXT = (
    "SELECT r.id, r.status, r.deadline, p.voting_roles, p.allow_cant_judge, "  # noqa: S608
    f"(SELECT m.role FROM {Membership._meta.db_table} m WHERE m.cycle_id = r.cycle_id AND m.user_id = %s "
    "AND m.status = %s LIMIT 1), "
    f"(SELECT 1 FROM {Round.items.through._meta.db_table} ri WHERE ri.round_id = r.id AND ri.delphiitem_id = %s LIMIT 1), "
    f"(SELECT vr.id FROM {VoteReceipt._meta.db_table} vr WHERE vr.round_id = r.id AND vr.panellist_id = %s "
    "AND vr.client_id = %s LIMIT 1) "
    f"FROM {Round._meta.db_table} r LEFT JOIN {DelphiPlan._meta.db_table} p ON p.cycle_id = r.cycle_id WHERE r.id = %s"
)


def _vote_context(*, round_id: int, panellist_pk: int, item_id: int, client_id: str) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(
            _VOTE_CONTEXT,
            [panellist_pk, Membership.Status.ACTIVE.value, item_id, panellist_pk, client_id or "", round_id],
        )
        row = cursor.fetchone()
    return _context_from_row(row, client_id)


def _context_from_row(row, client_id: str) -> dict | None:
    if row is None:
        return None
    pk, status, deadline, roles, allow_cant_judge, role, in_round, receipt_id = row
    if isinstance(roles, str):  # SQLite hands JSON back as text
        roles = json.loads(roles)
    if isinstance(deadline, str):
        deadline = parse_datetime(deadline)
    if deadline is not None and timezone.is_naive(deadline):
        deadline = timezone.make_aware(deadline, UTC)
    return {
        "pk": pk,
        "status": status,
        "deadline": deadline,
        "cycle__delphi_plan__voting_roles": roles or [],
        "allow_cant_judge": bool(allow_cant_judge),
        "role": role,
        "in_round": bool(in_round),
        "receipt_id": receipt_id if client_id else None,
    }


class _AlreadyAcknowledged(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, receipt: VoteReceipt):
        self.receipt = receipt


def _refused_or_pk(rnd: dict | None, *, cant_judge: bool, now) -> int:
    """The round's pk if the vote may be stored; otherwise the refusal (or the receipt of this
    client id, as ``_AlreadyAcknowledged``), in the one order both database paths answer in."""
    if rnd is None:
        raise DelphiError("not_found", ROUND_NOT_FOUND)
    round_pk = rnd["pk"]
    if rnd["role"] is None:
        raise DelphiError("not_a_member", NOT_A_MEMBER)
    if rnd["role"] not in (rnd["cycle__delphi_plan__voting_roles"] or []):
        raise DelphiError("not_a_voter", NOT_A_VOTER)
    if rnd["receipt_id"] is not None:
        raise _AlreadyAcknowledged(VoteReceipt.objects.get(pk=rnd["receipt_id"]))
    if cant_judge and not rnd["allow_cant_judge"]:
        raise DelphiError("cant_judge_not_allowed", CANT_JUDGE_NOT_ALLOWED)
    if rnd["status"] != Round.Status.OPEN:
        raise DelphiError("round_closed", ROUND_NOT_OPEN)
    if rnd["deadline"] is not None and rnd["deadline"] <= now:
        round_close_if_due(round_id=round_pk, now=now)
        raise DelphiError("round_closed", ROUND_NOT_OPEN)
    if not rnd["in_round"]:
        raise DelphiError("item_not_in_round", ITEM_NOT_IN_ROUND)
    return round_pk


# PostgreSQL: the whole vote in one statement, so one round trip and one commit. The checks of
# _VOTE_CONTEXT, then the sequence bump, the upsert and the receipt as data-modifying CTEs that
# run only when every check passed: each selects FROM ``bump``, which is empty otherwise. The bump
# takes the round's row lock first (the upsert reads its sequence), so concurrent votes queue on
# one lock in one order, and a close that committed first makes it match nothing, as in
# _store_vote. The statement's own row says why nothing was written (``_refused_or_pk``). A
# resend racing itself fails on the receipt's unique constraint and rolls the statement back.
_CAST = (
    "WITH ctx AS ("  # noqa: S608 - table names from the models, every value bound
    " SELECT r.id, r.status, r.deadline, p.voting_roles, p.allow_cant_judge,"
    f" (SELECT m.role FROM {Membership._meta.db_table} m WHERE m.cycle_id = r.cycle_id AND m.user_id = %(user)s"
    "  AND m.status = %(active)s LIMIT 1) AS role,"
    f" EXISTS (SELECT 1 FROM {Round.items.through._meta.db_table} ri WHERE ri.round_id = r.id"
    "  AND ri.delphiitem_id = %(item)s) AS in_round,"
    f" (SELECT vr.id FROM {VoteReceipt._meta.db_table} vr WHERE vr.round_id = r.id AND vr.panellist_id = %(user)s"
    "  AND vr.client_id = %(client)s AND %(client)s <> '' LIMIT 1) AS receipt_id"
    f" FROM {Round._meta.db_table} r LEFT JOIN {DelphiPlan._meta.db_table} p ON p.cycle_id = r.cycle_id"
    " WHERE r.id = %(round)s"
    "), bump AS ("
    f" UPDATE {Round._meta.db_table} r SET sequence = r.sequence + 1 FROM ctx"
    " WHERE r.id = ctx.id AND ctx.role IS NOT NULL AND COALESCE(ctx.voting_roles ? ctx.role, false)"
    " AND ctx.receipt_id IS NULL AND (NOT %(cant_judge)s OR ctx.allow_cant_judge) AND ctx.in_round"
    " AND r.status = %(open)s AND (r.deadline IS NULL OR r.deadline > %(now)s)"
    " RETURNING r.sequence"
    "), vote AS ("
    f" INSERT INTO {Vote._meta.db_table}"
    " (round_id, item_id, panellist_id, value, cant_judge, rationale, client_id, created_at, updated_at)"
    " SELECT %(round)s, %(item)s, %(user)s, %(value)s::smallint, %(cant_judge)s, %(rationale)s::text,"
    " %(client)s::varchar, %(now)s, %(now)s FROM bump"
    " ON CONFLICT (round_id, item_id, panellist_id) DO UPDATE SET value = EXCLUDED.value,"
    " cant_judge = EXCLUDED.cant_judge, rationale = EXCLUDED.rationale, client_id = EXCLUDED.client_id,"
    " updated_at = EXCLUDED.updated_at"
    " RETURNING 1"
    "), receipt AS ("
    f" INSERT INTO {VoteReceipt._meta.db_table}"
    " (round_id, panellist_id, client_id, item_id, value, cant_judge, rationale, sequence, created_at)"
    " SELECT %(round)s, %(user)s, %(client)s::varchar, %(item)s, %(value)s::smallint, %(cant_judge)s,"
    " %(rationale)s::text, bump.sequence, %(now)s FROM bump WHERE %(client)s <> ''"
    " RETURNING 1"
    ")"
    " SELECT ctx.id, ctx.status, ctx.deadline, ctx.voting_roles, ctx.allow_cant_judge, ctx.role, ctx.in_round,"
    " ctx.receipt_id, (SELECT sequence FROM bump), (SELECT count(*) FROM vote), (SELECT count(*) FROM receipt)"
    " FROM ctx"
)


_CAST_CONSTANTS = {"active": Membership.Status.ACTIVE.value, "open": Round.Status.OPEN.value}


def cast_params(vote: dict) -> dict:
    """The parameters of ``_CAST`` for a vote from ``vote_prepare`` (PostgreSQL stores the
    datetime as it is: Django's adaptation of it is the identity there)."""
    return {**vote, **_CAST_CONSTANTS}


def _cast_in_one_statement(vote: dict) -> tuple[int, int]:
    params = cast_params(vote)
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Inside a caller's transaction a refused receipt (IntegrityError) must not abort it.
            with transaction.atomic():
                cursor.execute(_CAST, params)
                row = cursor.fetchone()
        else:
            cursor.execute(_CAST, params)  # autocommit: the statement is its own transaction
            row = cursor.fetchone()
    if row is None or row[8] is None:
        context = _context_from_row(row[:8] if row is not None else None, vote["client"])
        _refused_or_pk(context, cant_judge=vote["cant_judge"], now=vote["now"])
        # Every check passed when read, yet the bump matched nothing: a close committed first.
        raise DelphiError("round_closed", ROUND_NOT_OPEN)
    _announce(row[0])
    return row[0], int(row[8])


_BUMP_SEQUENCE = (
    f"UPDATE {Round._meta.db_table} SET sequence = sequence + 1 "  # noqa: S608 - table name from the model, values bound
    "WHERE id = %s AND status = %s AND (deadline IS NULL OR deadline > %s) RETURNING sequence"
)


def _store_vote(
    round_pk: int, panellist_pk: int, item_id: int, value: int | None, cant_judge: bool, rationale: str, client_id: str,
    now,
) -> int:  # fmt: skip
    # An upsert (INSERT … ON CONFLICT DO UPDATE on the one-vote-per-item constraint): one
    # statement whether this is the first answer or a change, and no race between the two.
    Vote.objects.bulk_create(
        [
            Vote(
                round_id=round_pk, item_id=item_id, panellist_id=panellist_pk, value=value, cant_judge=cant_judge,
                rationale=rationale, client_id=client_id, created_at=now, updated_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["round", "item", "panellist"],
        update_fields=["value", "cant_judge", "rationale", "client_id", "updated_at"],
    )  # fmt: skip
    # Last, and conditional on the round still being open: the row lock is held only until commit,
    # and a close that committed first makes this match nothing (so the vote rolls back).
    with connection.cursor() as cursor:
        cursor.execute(
            _BUMP_SEQUENCE, [round_pk, Round.Status.OPEN.value, connection.ops.adapt_datetimefield_value(now)]
        )
        row = cursor.fetchone()
    if row is None:
        raise DelphiError("round_closed", ROUND_NOT_OPEN)
    sequence = int(row[0])
    if client_id:
        VoteReceipt.objects.create(
            round_id=round_pk,
            panellist_id=panellist_pk,
            client_id=client_id,
            item_id=item_id,
            value=value,
            cant_judge=cant_judge,
            rationale=rationale,
            sequence=sequence,
            created_at=now,
        )
    _announce(round_pk)
    return sequence


def _receipt(round_pk: int, panellist_pk: int, client_id: str) -> VoteReceipt | None:
    return (
        VoteReceipt.objects.filter(round_id=round_pk, panellist_id=panellist_pk, client_id=client_id).order_by().first()
    )


def _ack(receipt: VoteReceipt) -> VoteAck:
    return VoteAck(
        client_id=receipt.client_id,
        round=receipt.round_id,
        item=receipt.item_id,
        value=receipt.value,
        rationale=receipt.rationale,
        sequence=receipt.sequence,
        cant_judge=receipt.cant_judge,
    )

"""Reminders for asynchronous rounds: the plan's reminder times (hours before a round's deadline),
the scheduled send, the log and the unsubscribe link.

At each reminder time of an open round with a deadline, every panellist of a voting role who has
not answered every item, has an email address and has not unsubscribed gets one email with a link
straight to their unanswered items and a one-click unsubscribe (a signed token: no sign-in).

Never twice: before an email goes out its ``ReminderSent`` row is inserted under the unique
(round, panellist, reminder time) constraint, in its own transaction; a second scheduler, a retried
task or a rerun loses the insert and sends nothing. The price is at most once: a process that dies
between the claim and the send leaves the row ``sending`` and that reminder is not sent. Only the
latest reminder time that has passed is sent (a scheduler that was down does not send a backlog),
never one whose time was before the round opened, never at or after the deadline or once the round
is closed.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import User
from core.links import site_base
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle, Membership
from cycles.services.audit import audit_record
from workshops.delphi.services import DelphiError, delphi_plan_ensure
from workshops.models import DelphiPlan, ReminderOptOut, ReminderSent, Round, Vote

logger = logging.getLogger(__name__)

TOKEN_SALT = "workshops.delphi.reminders.unsubscribe"
REMINDER_HOURS_INVALID = "Write reminder times like “3d, 1d” or “72h, 24h” (days or hours before the deadline)."
REMINDER_HOURS_RANGE = "Each reminder time must be between 1 hour and 60 days before the deadline."
REMINDER_HOURS_MAX = 5
REMINDER_HOURS_TOO_MANY = f"At most {REMINDER_HOURS_MAX} reminder times."
UNSUBSCRIBE_INVALID = "This unsubscribe link is not valid (it may have been copied incompletely)."
REMINDER_SUBJECT = "Reminder: Delphi round {number} of {cycle} closes {when}"
_PART = re.compile(r"^(\d+)\s*(d|day|days|h|hour|hours)?$")


# --- The plan's reminder times ---------------------------------------------------------------------


def reminder_hours_parse(text: str) -> list[int]:
    """ "3d, 1d" → [72, 24] (a bare number is hours); largest first, duplicates dropped."""
    hours: set[int] = set()
    parts = [p.strip().lower() for p in re.split(r"[,;]", text or "") if p.strip()]
    for part in parts:
        match = _PART.match(part)
        if match is None:
            raise DelphiError("invalid_reminders", REMINDER_HOURS_INVALID)
        value = int(match.group(1)) * (24 if (match.group(2) or "h").startswith("d") else 1)
        if not 1 <= value <= 60 * 24:
            raise DelphiError("invalid_reminders", REMINDER_HOURS_RANGE)
        hours.add(value)
    if len(hours) > REMINDER_HOURS_MAX:
        raise DelphiError("invalid_reminders", REMINDER_HOURS_TOO_MANY)
    return sorted(hours, reverse=True)


def reminder_hours_label(hours: list[int]) -> str:
    """[72, 24, 6] → "3 days, 1 day, 6 hours"."""
    out = []
    for h in hours:
        if h % 24 == 0:
            out.append(f"{h // 24} day{'s' if h != 24 else ''}")
        else:
            out.append(f"{h} hour{'s' if h != 1 else ''}")
    return ", ".join(out)


def reminder_hours_text(hours: list[int]) -> str:
    """The form's spelling of the stored times: [72, 30] → "3d, 30h"."""
    return ", ".join(f"{h // 24}d" if h % 24 == 0 else f"{h}h" for h in hours)


@transaction.atomic
def delphi_reminders_update(*, cycle: Cycle, actor: User | None, hours: list[int]) -> DelphiPlan:
    """Set the plan's reminder times. Not a rule of the Delphi, so allowed after the plan is locked."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="set the Delphi's reminders"))
    delphi_plan_ensure(cycle=cycle)
    plan = DelphiPlan.objects.select_for_update().get(cycle=cycle)
    plan.reminder_hours = sorted({int(h) for h in hours}, reverse=True)
    plan.save(update_fields=["reminder_hours"])
    audit_record(
        cycle=cycle.pk,
        actor=actor,
        verb="delphi.reminders_updated",
        summary=f"Set Delphi reminders: {reminder_hours_label(plan.reminder_hours) or 'none'} before the deadline",
        detail={"reminder_hours": plan.reminder_hours},
    )
    return plan


# --- Unsubscribe -------------------------------------------------------------------------------------


def unsubscribe_token(*, cycle_id: int, user_id: int) -> str:
    return signing.dumps({"c": cycle_id, "u": user_id}, salt=TOKEN_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[Cycle, User] | None:
    """The cycle and person a token names, or None for a token that is not ours."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        cycle = Cycle.objects.filter(pk=int(data["c"])).first()
        user = User.objects.filter(pk=int(data["u"])).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if cycle is None or user is None:
        return None
    return cycle, user


def is_unsubscribed(*, cycle_id: int, user_id: int) -> bool:
    return ReminderOptOut.objects.filter(cycle_id=cycle_id, user_id=user_id).exists()


@transaction.atomic
def reminders_unsubscribe(*, token: str) -> tuple[Cycle, User]:
    """Stop a cycle's reminders for the person the token names (idempotent). The token is the
    authority: it was sent to that person's address only."""
    found = unsubscribe_read(token)
    if found is None:
        raise DelphiError("invalid_token", UNSUBSCRIBE_INVALID)
    cycle, user = found
    _, created = ReminderOptOut.objects.get_or_create(cycle=cycle, user=user)
    if created:
        audit_record(
            cycle=cycle.pk,
            actor=None,
            verb="delphi.reminders_unsubscribed",
            summary="A panellist unsubscribed from Delphi reminders",
            detail={"user": user.pk},
        )
    return cycle, user


# --- Sending ----------------------------------------------------------------------------------------


def due_hours(*, rnd: Round, plan: DelphiPlan, now: datetime) -> int | None:
    """The reminder time of ``rnd`` that is due now: the latest that has passed, if it passed after
    the round opened and before the deadline; None otherwise."""
    if rnd.status != Round.Status.OPEN or rnd.deadline is None or now >= rnd.deadline:
        return None
    passed = [
        h
        for h in plan.reminder_hours or []
        if rnd.deadline - timedelta(hours=h) <= now
        and (rnd.opened_at is None or rnd.deadline - timedelta(hours=h) >= rnd.opened_at)
    ]
    return min(passed) if passed else None


def unfinished_panellists(rnd: Round, plan: DelphiPlan) -> dict[int, int]:
    """Panellist id → their unanswered items, for voters of the round who have not answered every item."""
    n_items = rnd.items.count()
    answered = dict(Vote.objects.filter(round=rnd).order_by().values_list("panellist").annotate(n=Count("id")))
    voters = Membership.objects.filter(
        cycle_id=rnd.cycle_id, status=Membership.Status.ACTIVE, role__in=plan.voting_roles
    ).values_list("user_id", flat=True)
    return {pk: n_items - answered.get(pk, 0) for pk in voters if answered.get(pk, 0) < n_items}


def reminders_send_due(*, now: datetime | None = None) -> int:
    """Send every reminder that is due (the scheduled task). Returns how many emails went out."""
    now = now or timezone.now()
    sent = 0
    rounds = Round.objects.filter(status=Round.Status.OPEN, deadline__gt=now).select_related("cycle")
    for rnd in rounds:
        plan = DelphiPlan.objects.filter(cycle_id=rnd.cycle_id).first()
        hours = due_hours(rnd=rnd, plan=plan, now=now) if plan else None
        if hours is None:
            continue
        sent += _send_round(rnd=rnd, plan=plan, hours=hours, now=now)
    return sent


def _send_round(*, rnd: Round, plan: DelphiPlan, hours: int, now: datetime) -> int:
    unfinished = unfinished_panellists(rnd, plan)
    done = set(ReminderSent.objects.filter(round=rnd, hours_before=hours).values_list("panellist_id", flat=True))
    opted_out = set(ReminderOptOut.objects.filter(cycle_id=rnd.cycle_id).values_list("user_id", flat=True))
    people = User.objects.filter(pk__in=set(unfinished) - done - opted_out, is_active=True).exclude(email="")
    sent = 0
    for person in people:
        try:
            with transaction.atomic():
                # The claim: re-checked under the round's row, so a close that committed first wins.
                if not Round.objects.select_for_update().filter(pk=rnd.pk, status=Round.Status.OPEN, deadline__gt=now).exists():  # fmt: skip
                    return sent
                log = ReminderSent.objects.create(
                    round=rnd, panellist=person, hours_before=hours, unanswered=unfinished[person.pk], created_at=now
                )
        except IntegrityError:
            continue  # another scheduler (or a retry) claimed this reminder first
        try:
            _email(rnd=rnd, person=person, unanswered=unfinished[person.pk])
        except Exception as exc:  # noqa: BLE001 - one bad address must not stop the others; the log says why
            logger.warning("Delphi reminder to user %s failed: %s", person.pk, exc)
            ReminderSent.objects.filter(pk=log.pk).update(status=ReminderSent.Status.FAILED, error=str(exc)[:300])
            continue
        ReminderSent.objects.filter(pk=log.pk).update(status=ReminderSent.Status.SENT)
        sent += 1
    return sent


def _email(*, rnd: Round, person: User, unanswered: int) -> None:
    base = site_base()
    link = base + reverse("workshops:delphi_round", args=[rnd.cycle.slug, rnd.number]) + "?show=unanswered"
    unsubscribe = base + reverse(
        "workshops:delphi_reminders_unsubscribe", args=[unsubscribe_token(cycle_id=rnd.cycle_id, user_id=person.pk)]
    )
    when = dateformat.format(timezone.localtime(rnd.deadline), "j M Y, H:i")
    context = {
        "round": rnd,
        "cycle": rnd.cycle,
        "person": person,
        "unanswered": unanswered,
        "link": link,
        "unsubscribe": unsubscribe,
        "deadline": when,
    }
    message = EmailMultiAlternatives(
        subject=REMINDER_SUBJECT.format(number=rnd.number, cycle=rnd.cycle.title, when=when),
        body=render_to_string("workshops/delphi/email/reminder.txt", context),
        to=[person.email],
        # RFC 8058 one-click unsubscribe: mail clients POST to the link (the view takes POST without CSRF).
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.send()


def round_reminders(rnd: Round) -> list[ReminderSent]:
    """The round's reminder log, newest first, for the convener."""
    log = list(ReminderSent.objects.filter(round=rnd).select_related("panellist").order_by("-created_at", "id"))
    for row in log:
        row.hours_label = reminder_hours_label([row.hours_before])
    return log


def round_reminder_panel(*, rnd: Round, plan: DelphiPlan) -> dict:
    """The round page's reminders panel (convener): the plan's times, the next one and the log."""
    log = round_reminders(rnd)
    by_time: dict[int, dict] = {}
    for row in log:
        entry = by_time.setdefault(row.hours_before, {"label": row.hours_label, "sent": 0, "failed": 0, "sending": 0})
        entry[row.status] += 1
    return {
        "hours": plan.reminder_hours or [],
        "label": reminder_hours_label(plan.reminder_hours or []),
        "next": next_reminder(rnd=rnd, plan=plan),
        "log": log,
        "by_time": [by_time[h] for h in sorted(by_time, reverse=True)],
    }


def next_reminder(*, rnd: Round, plan: DelphiPlan, now: datetime | None = None) -> datetime | None:
    """When the next reminder of an open round is due, if any."""
    now = now or timezone.now()
    if rnd.status != Round.Status.OPEN or rnd.deadline is None:
        return None
    times = sorted(
        rnd.deadline - timedelta(hours=h)
        for h in plan.reminder_hours or []
        if rnd.deadline - timedelta(hours=h) > now
        and (rnd.opened_at is None or rnd.deadline - timedelta(hours=h) >= rnd.opened_at)
    )
    return times[0] if times else None

"""Celery tasks of Delphi rounds: thin, take ids, idempotent.

Names are explicit and keep the ``workshops.tasks.*`` names they had before the sub-packages, so a
task queued by an older release still finds its function."""

from __future__ import annotations

from celery import shared_task

from workshops.delphi.aggregation import round_aggregate
from workshops.delphi.reminders import reminders_send_due
from workshops.delphi.services import rounds_close_due


@shared_task(
    name="workshops.tasks.aggregate_round",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def aggregate_round(round_id: int) -> dict:
    """Aggregate a closed round; running it again recomputes the same results."""
    return round_aggregate(round_id=round_id)


@shared_task(name="workshops.tasks.close_due_rounds")
def close_due_rounds() -> list[int]:
    """Close rounds past their deadline (schedule it, or run ``manage.py close_due_rounds``)."""
    return rounds_close_due()


@shared_task(name="workshops.tasks.send_delphi_reminders")
def send_delphi_reminders() -> int:
    """Email the reminders that are due (scheduled by beat); safe to run twice or in parallel:
    each reminder is claimed by a unique row before it is sent (workshops/delphi/reminders.py)."""
    return reminders_send_due()

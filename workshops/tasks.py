"""Celery tasks of the workshops app: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from workshops.services.delphi import rounds_close_due
from workshops.services.delphi_aggregation import round_aggregate
from workshops.services.fop_proposals import fop_proposal_run_execute


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def aggregate_round(round_id: int) -> dict:
    """Aggregate a closed round; running it again recomputes the same results."""
    return round_aggregate(round_id=round_id)


@shared_task
def close_due_rounds() -> list[int]:
    """Close rounds past their deadline (schedule it, or run ``manage.py close_due_rounds``)."""
    return rounds_close_due()


@shared_task(name="workshops.tasks.propose_fops", acks_late=True)
def propose_fops(run_id: int, actor_id: int | None = None) -> str:
    """Compute a queued FOP proposal run. A run already running, done or failed is left alone, so a
    redelivered task changes nothing; unexpected errors mark the run failed and are raised again."""
    run = fop_proposal_run_execute(run_id=run_id, actor_id=actor_id)
    return run.status if run else "skipped"

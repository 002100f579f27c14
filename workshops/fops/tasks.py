"""Celery tasks of FOPs: thin, take ids, idempotent (the name predates the sub-packages)."""

from __future__ import annotations

from celery import shared_task

from workshops.fops.proposals import fop_proposal_run_execute


@shared_task(name="workshops.tasks.propose_fops", acks_late=True)
def propose_fops(run_id: int, actor_id: int | None = None) -> str:
    """Compute a queued FOP proposal run. A run already running (and heard from lately), done or
    failed is left alone, so a redelivered task changes nothing; a run whose worker was lost is taken
    over (core.jobs); unexpected errors mark the run failed and are raised again."""
    run = fop_proposal_run_execute(run_id=run_id, actor_id=actor_id)
    return run.status if run else "skipped"

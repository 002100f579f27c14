"""Celery tasks of the matching app (routed to the ``matching`` queue by settings)."""

from celery import shared_task

from matching import selectors, services


@shared_task(name="matching.tasks.match_run_execute_task")
def match_run_execute_task(run_id: int) -> bool:
    # Idempotent: the service claims the run (core.jobs), so a redelivered task computes nothing
    # unless the run's worker was lost.
    return services.match_run_execute(run_id=run_id)


@shared_task(name="matching.tasks.framework_version_embed_task")
def framework_version_embed_task(version_id: int) -> int:
    return services.framework_version_embed(version=selectors.framework_version(version_id))

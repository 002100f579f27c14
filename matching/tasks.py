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


@shared_task(name="matching.tasks.warm_up")
def warm_up(kinds: list[str]) -> dict[str, int]:
    """After set-up (`make run`) or when a page finds a list not embedded yet: embed the latest
    ESCO, O*NET and Skills England versions and their corpora in the background, so suggestions, FOP names and
    the library never wait for them. Idempotent: stored texts are skipped. One at a time per
    machine (``services.warm_up_lock``): a second warm-up queued meanwhile returns at once rather
    than encode the same texts again in a second worker slot, which jobs are waiting for."""
    with services.warm_up_lock() as mine:
        if not mine:
            return {}
        return services.frameworks_embed(kinds=kinds)


@shared_task(name="matching.tasks.framework_import_task")
def framework_import_task(job_id: int) -> bool:
    # Idempotent like a match run: the service claims the job (core.jobs).
    return services.framework_import_execute(job_id=job_id)

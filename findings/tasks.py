"""Celery tasks of the findings app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="findings.tasks.run_export_job", acks_late=True)
def run_export_job(job_id: int) -> str:
    # Idempotent: the service claims the job with core.jobs' conditional UPDATE, so a redelivered
    # task finds it no longer queued and does nothing (unless its worker was lost: then it takes over).
    from findings.services import export_job_run

    job = export_job_run(job_id=job_id)
    return job.status if job else "skipped"

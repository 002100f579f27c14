"""Scheduled: erase the personal data of closed cycles whose retention period has ended."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="privacy.tasks.erase_due_personal_data")
def erase_due_personal_data() -> dict:
    from privacy.services import retention_erase_due

    return retention_erase_due()

"""Background work for cycles: invitation emails leave the request (a CSV can invite hundreds)."""

from celery import shared_task

from cycles.services.members import invitation_send_email


@shared_task(
    name="cycles.tasks.send_invitation_email",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
    acks_late=True,
)
def send_invitation_email(invitation_id: int, base_url: str | None = None) -> bool:
    """``base_url``: the site address the convener used (absent from tasks queued by older releases)."""
    return invitation_send_email(invitation_id=invitation_id, base_url=base_url)

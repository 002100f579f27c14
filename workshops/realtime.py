"""The one place that names websocket groups and sends to them.

Group names are built only here so a consumer and the code that broadcasts can never disagree.
Broadcasts go out after the surrounding transaction commits (a client must never see something
the database later rolls back) and are best-effort: a page that missed one reloads its state
over HTTP or from a snapshot.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_name(kind: str, object_id: int) -> str:
    """``capture-12``, ``round-7``: one group per live screen and object."""
    return f"{kind}-{int(object_id)}"


def _send_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a broadcast is best-effort; the database already holds the truth
        logger.exception("Broadcast to %s failed", group)


def send_after_commit(group: str, message: dict) -> None:
    """Send ``message`` (with a ``type`` naming the consumer handler) to ``group`` once committed."""
    transaction.on_commit(lambda: _send_now(group, message))

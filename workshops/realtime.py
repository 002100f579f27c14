"""The one place that names websocket routes, close codes and groups, and sends to groups.

* **Routes**: every websocket URL pattern is named here (``WS_ROUTES``); the routing modules
  register them with ``ws_route`` and the views build the browser's path with ``ws_path`` (or
  ``capture_ws_path`` / ``round_ws_path`` / ``fop_ws_path``) from the same pattern, so the two can
  never disagree.
* **Close codes**: a consumer turns a visitor away with ``refuse(consumer, code)``:
  ``CLOSE_NOT_SIGNED_IN`` (4401) for an anonymous visitor, ``CLOSE_NOT_ALLOWED`` (4403) for a
  signed-in user who may not join. ``static/js/live_socket.js`` stops reconnecting on either and
  says why. Documented in docs/realtime.md.
* **Groups**: names are built only here so a consumer and the code that broadcasts can never
  disagree. Broadcasts go out after the surrounding transaction commits (a client must never see
  something the database later rolls back) and are best-effort: a page that missed one reloads
  its state over HTTP or from a snapshot.
"""

from __future__ import annotations

import logging
from functools import cache

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import URLPattern, URLResolver, path
from django.urls.resolvers import RegexPattern

logger = logging.getLogger(__name__)

# --- Close codes ----------------------------------------------------------------------------------

#: The visitor is not signed in (no session, or it ended): the page says "sign in again".
CLOSE_NOT_SIGNED_IN = 4401
#: Signed in, but may not join this room (not an active member, no such object): no retry.
CLOSE_NOT_ALLOWED = 4403


def signed_in(user) -> bool:
    return user is not None and user.is_authenticated


async def refuse(consumer, code: int) -> None:
    """Turn a socket away with ``code``: accept, then close at once, sending nothing else.

    Closing *before* accepting would reject the handshake with HTTP 403, and a browser then only
    sees close code 1006, the same as a network failure: the page could not tell "sign in again"
    from "server restarting" and would retry for ever. The socket joins no group and receives no
    data before it is closed.
    """
    await consumer.accept()
    await consumer.close(code=code)


# --- Routes -----------------------------------------------------------------------------------

WS_CAPTURE = "capture"
WS_ROUND = "round"
WS_FOP = "fop"

#: route name → Django ``path()`` pattern (no leading slash, as Channels' URLRouter expects).
WS_ROUTES: dict[str, str] = {
    WS_CAPTURE: "ws/cycles/<slug:slug>/capture/",
    WS_ROUND: "ws/rounds/<int:round_id>/",
    WS_FOP: "ws/fops/<int:fop_id>/",
}


def ws_route(name: str, consumer) -> URLPattern:
    """The routing entry for route ``name`` (used by the apps' ``routing.py``)."""
    return path(WS_ROUTES[name], consumer, name=name)


@cache
def _ws_resolver() -> URLResolver:
    # Reversed with Django's own machinery (converters check the values) against the very
    # patterns routing registers; the view callable is never called.
    return URLResolver(RegexPattern(r"^/"), [path(pattern, _never, name=name) for name, pattern in WS_ROUTES.items()])


def _never(*args, **kwargs):  # pragma: no cover - a placeholder view for reversing only
    raise AssertionError("websocket routes are served by Channels, not by Django views")


def ws_path(name: str, **kwargs) -> str:
    """The absolute path a page opens for route ``name``: ``ws_path("round", round_id=7)``."""
    return "/" + _ws_resolver().reverse(name, **kwargs)


def capture_ws_path(cycle) -> str:
    return ws_path(WS_CAPTURE, slug=cycle.slug)


def round_ws_path(rnd) -> str:
    return ws_path(WS_ROUND, round_id=rnd.pk)


def fop_ws_path(fop) -> str:
    return ws_path(WS_FOP, fop_id=fop.pk)


# --- Groups -----------------------------------------------------------------------------------


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

"""The one place that names websocket routes, close codes and groups, and sends to groups.

* **Routes**: every websocket URL pattern is named here (``WS_ROUTES``); the routing modules
  register them with ``ws_route`` and the views build the browser's path with ``ws_path`` (or
  ``capture_ws_path`` / ``round_ws_path`` / ``fop_ws_path``) from the same pattern, so the two can
  never disagree.
* **Close codes**: a consumer turns a visitor away with ``refuse(consumer, code)``:
  ``CLOSE_NOT_SIGNED_IN`` (4401) for an anonymous visitor, ``CLOSE_NOT_ALLOWED`` (4403) for a
  signed-in user who may not join. ``static/js/live_socket.js`` stops reconnecting on either and
  says why. Documented in docs/realtime.md.
* **Frames**: every consumer that reads client frames derives from ``JsonFrameConsumer``, which
  applies the same rules on each socket: a text frame of at most ``MAX_FRAME_BYTES`` holding one
  JSON object with a text ``type``. Anything else (binary, not JSON, not an object, too large) is
  answered with an ``error`` frame (``frame_error``) and the socket stays open.
* **Groups**: names are built only here so a consumer and the code that broadcasts can never
  disagree. Broadcasts go out after the surrounding transaction commits (a client must never see
  something the database later rolls back) and are best-effort: a page that missed one reloads
  its state over HTTP or from a snapshot.
"""

from __future__ import annotations

import json
import logging
from functools import cache

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
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


# --- Frames -------------------------------------------------------------------------------------

#: The largest client frame a consumer reads, in bytes of UTF-8. A vote with a rationale of the
#: full 2,000 characters fits even when every character is an emoji that the client's JSON encoder
#: escapes as a surrogate pair (``\ud83d\ude00``: 12 bytes a character, 24,000 bytes in all).
MAX_FRAME_BYTES = 32 * 1024
#: The ASGI server's own limit (daphne's default, for ``runserver`` and the ``daphne`` command):
#: a bigger message never reaches a consumer; daphne drops the TCP connection without a close
#: frame (the client sees 1006 and reconnects). Documented in docs/realtime.md.
SERVER_MAX_MESSAGE_BYTES = 1024 * 1024

INVALID_REQUEST = "invalid_request"
FRAME_TOO_LARGE = "frame_too_large"

NOT_TEXT = "Frames must be text (UTF-8 JSON); binary frames are not read."
NOT_JSON = "The frame is not valid JSON."
NOT_AN_OBJECT = "A frame must be a JSON object with a “type”."
TOO_LARGE = f"The frame is larger than {MAX_FRAME_BYTES:,} bytes and was not read."


class FrameError(Exception):
    """A client frame that breaks the protocol: answered with an ``error`` frame, never a close."""

    def __init__(self, code: str, message: str, client_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


def frame_error(code: str, message: str, *, client_id: object = None, retry: bool = False) -> dict:
    """The one shape of an ``error`` frame on every socket. ``retry`` is true only when sending the
    same frame again later can succeed; ``client_id`` is echoed when the frame carried one as text."""
    return {
        "type": "error",
        "client_id": client_id if isinstance(client_id, str) else None,
        "code": code,
        "message": message,
        "retry": bool(retry),
    }


def _too_large(text: str) -> bool:
    if len(text) > MAX_FRAME_BYTES:  # every character is at least one byte
        return True
    if len(text) * 4 <= MAX_FRAME_BYTES:  # and at most four
        return False
    return len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES


def parse_frame(text_data: str | None, bytes_data: bytes | None) -> dict:
    """The JSON object of a client frame, or ``FrameError``."""
    if text_data is None:
        if bytes_data is not None and len(bytes_data) > MAX_FRAME_BYTES:
            raise FrameError(FRAME_TOO_LARGE, TOO_LARGE)
        raise FrameError(INVALID_REQUEST, NOT_TEXT)
    if _too_large(text_data):
        raise FrameError(FRAME_TOO_LARGE, TOO_LARGE)
    try:
        content = json.loads(text_data)
    except (ValueError, RecursionError):  # bad JSON, a number of too many digits, deep nesting
        raise FrameError(INVALID_REQUEST, NOT_JSON) from None
    if not isinstance(content, dict):
        raise FrameError(INVALID_REQUEST, NOT_AN_OBJECT)
    if not isinstance(content.get("type"), str):
        raise FrameError(INVALID_REQUEST, NOT_AN_OBJECT, client_id=content.get("client_id"))
    return content


class JsonFrameConsumer(AsyncJsonWebsocketConsumer):
    """A JSON websocket consumer whose malformed frames get an ``error`` frame, not a close (1011).

    Subclasses implement ``receive_json(content)`` as usual; ``content`` is always a dict with a
    text ``type``. ``send_error`` sends the one error shape.
    """

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = parse_frame(text_data, bytes_data)
        except FrameError as error:
            await self.send_error(error.code, error.message, client_id=error.client_id)
            return
        await self.receive_json(content, **kwargs)

    async def send_error(self, code: str, message: str, *, client_id: object = None, retry: bool = False) -> None:
        await self.send_json(frame_error(code, message, client_id=client_id, retry=retry))


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

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
* **Process groups** (``process_groups()``): a consumer with many sockets per group (the live
  round) joins its group once per server process instead of once per socket. The process has one
  channel-layer channel, added to each group that has a local socket; one receive loop reads it
  and writes each group message to the group's local sockets. A broadcast to 1,000 screens on two
  servers is then two channel-layer messages, not 1,000 (each with its own queue, futures and
  receive loop in channels-redis).
* **The outbox** (embedded default): an in-memory channel layer lives inside one process, so a
  Celery worker's group send would reach no socket. A worker process with that layer writes its
  broadcasts to ``core.models.Broadcast`` instead, and each web process, while it has sockets in
  process groups, reads new rows every ``OUTBOX_POLL_SECONDS`` and sends them on its own layer.
  With Redis (services mode) every process sends directly, as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

from asgiref.sync import async_to_sync
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.sessions import InstanceSessionWrapper
from django.db import transaction
from django.db.models import Max
from django.urls import URLPattern, URLResolver, path
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# --- Close codes ----------------------------------------------------------------------------------

#: The visitor is not signed in (no session, or it ended): the page says "sign in again".
CLOSE_NOT_SIGNED_IN = 4401
#: Signed in, but may not join this room (not an active member, no such object): no retry.
CLOSE_NOT_ALLOWED = 4403


def sign_in_refused(scope, cycle) -> bool:
    """Whether a socket's session may not open ``cycle`` (it requires a single sign-on provider the
    session did not sign in with): the pages' rule, ``cycles.access.sign_in_refused``. Reads the
    session, so call it through ``database_sync_to_async``."""
    from accounts.sso import session_signed_in_with
    from cycles.access import sign_in_refused as refused

    return refused(cycle, user=scope["user"], signed_in_with=session_signed_in_with(scope.get("session")))


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


class ProcessGroupConsumer(JsonFrameConsumer):
    """A socket whose group events come from the process's one subscription (``ProcessGroups``):
    no channel-layer channel of its own, so no receive loop per socket (on Redis an idle one died
    of redis-py's read timeout racing BZPOPMIN: tests/faults/test_broadcast_once.py)."""

    channel_layer_alias = None
    group: str | None = None
    _frame_send = None

    async def __call__(self, scope, receive, send):
        # Channels' AsyncConsumer.__call__ with one source of messages: the client (the group's
        # come through ProcessGroups). Its await_many_dispatch makes a task and an asyncio.wait
        # per frame; this reads and dispatches in turn, the same order, at less cost.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def send_text(self, text: str) -> None:
        """One text frame, already encoded (a broadcast's, the same string for every socket),
        handed to the server directly: Channels' session wrapper saves a session only on
        ``http.response.start``, so for a websocket frame it only adds work."""
        send = self._frame_send
        if send is None:
            send = self.base_send
            while isinstance(getattr(send, "__self__", None), InstanceSessionWrapper):
                send = send.__self__.real_send
            self._frame_send = send
        await send({"type": "websocket.send", "text": text})

    async def send_json(self, content, close=False):
        if close:
            await super().send_json(content, close=close)
        else:
            await self.send_text(json.dumps(content))

    async def accept_in_group(self, group: str, first_frame: Callable[[], Awaitable[None]]) -> None:
        """Join ``group``, accept, and send ``first_frame()``: events committed meanwhile wait
        behind it, so it is the socket's first frame and nothing after it is missed."""
        self.group = group
        self.groups_hub = process_groups()
        await self.groups_hub.join(group, self)
        await self.accept()
        try:
            await first_frame()
        finally:
            await self.groups_hub.release(self)

    async def disconnect(self, code) -> None:
        if self.group:
            await self.groups_hub.leave(self.group, self)


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
        if _outside_web_server and isinstance(layer, InMemoryChannelLayer):
            outbox_write(group, message)
        else:
            async_to_sync(layer.group_send)(group, group_message(group, message))
    except Exception:  # noqa: BLE001 - a broadcast is best-effort; the database already holds the truth
        logger.exception("Broadcast to %s failed", group)


def send_after_commit(group: str, message: dict) -> None:
    """Send ``message`` (with a ``type`` naming the consumer handler) to ``group`` once committed."""
    transaction.on_commit(lambda: _send_now(group, message))


# --- The outbox: a worker's broadcasts in the embedded default ----------------------------------

#: How often a web process reads new rows, and how long a row is kept: far longer than a poll, so
#: every process has read it before it goes.
OUTBOX_POLL_SECONDS = 0.5
OUTBOX_KEEP_SECONDS = 60.0
OUTBOX_BATCH = 500

#: True in a process that is not a web server but broadcasts: a Celery worker (config/celery.py),
#: and a management command that changes live rooms while it runs (close_due_rounds,
#: simulate_delphi, propose_fops, import_capabilities: ``broadcasting_from_a_command``). Eager
#: tasks run in the web process and keep sending directly.
_outside_web_server = False
_outbox_pruned_at = 0.0


def outside_the_web_server() -> None:
    """This process is not the web server: with an in-memory channel layer (the embedded default)
    its broadcasts go through the outbox, because its layer is not the web servers'."""
    global _outside_web_server
    _outside_web_server = True


@contextmanager
def broadcasting_from_a_command():
    """``outside_the_web_server`` while a management command runs, restored after (a command
    called in-process, as tests do, leaves the process as it was)."""
    global _outside_web_server
    before, _outside_web_server = _outside_web_server, True
    try:
        yield
    finally:
        _outside_web_server = before


def outbox_write(group: str, message: dict) -> None:
    """Leave ``message`` for the web processes, and delete rows every process has long read
    (at most every tenth of the keeping time, so a burst of broadcasts deletes once)."""
    from core.models import Broadcast

    global _outbox_pruned_at
    Broadcast.objects.create(group=group, message=message)
    if time.monotonic() - _outbox_pruned_at > OUTBOX_KEEP_SECONDS / 10:
        _outbox_pruned_at = time.monotonic()
        Broadcast.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=OUTBOX_KEEP_SECONDS)).delete()


def outbox_last_id() -> int:
    """Where a web process starts reading: rows written before it had sockets are not replayed."""
    from core.models import Broadcast

    return Broadcast.objects.aggregate(last=Max("id"))["last"] or 0


def outbox_after(last_id: int) -> list[tuple[int, str, dict]]:
    """The rows written after ``last_id``, oldest first. On SQLite writers take turns, so ids
    commit in order; a row that commits after a higher id was read is missed, best-effort as
    every broadcast is."""
    from core.models import Broadcast

    rows = Broadcast.objects.filter(id__gt=last_id).order_by("id").values_list("id", "group", "message")
    return list(rows[:OUTBOX_BATCH])


# --- Process groups ---------------------------------------------------------------------------

#: A group's membership in channels-redis expires (``group_expiry``, a day by default): a process
#: whose sockets stay in a room that long adds its channel again.
_REJOIN_AFTER = 3600.0


class ProcessGroups:
    """This process's sockets per group, fed by one channel-layer channel and one receive loop.

    One per event loop and channel layer (a server has one of each; tests get a fresh loop and
    layer per test). The receive loop runs while any group has a local socket. A socket joins with
    ``join`` (the process's channel is in the group when it returns: register first, then load the
    state) and is *held* until ``release``: messages for it wait, so the snapshot it is sent first
    is never overtaken by an event. Delivery to each socket is best-effort, as every broadcast is.

    With an in-memory layer a second loop relays the outbox (what workers broadcast) onto the
    layer while any group has a local socket.
    """

    def __init__(self, layer, loop: asyncio.AbstractEventLoop):
        self.layer = layer
        self.loop = loop
        self.channel: str | None = None
        self.sockets: dict[str, set] = {}
        self.joined_at: dict[str, float] = {}
        self.held: dict[object, list[dict]] = {}
        self.receiver: asyncio.Task | None = None
        self.relay: asyncio.Task | None = None
        self._channel_lock = asyncio.Lock()
        self._relay_lock = asyncio.Lock()

    async def join(self, group: str, consumer) -> None:
        async with self._channel_lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
        self.held[consumer] = []
        local = self.sockets.setdefault(group, set())
        local.add(consumer)
        if group not in self.joined_at or time.monotonic() - self.joined_at[group] > _REJOIN_AFTER:
            self.joined_at[group] = time.monotonic()
            try:
                await self.layer.group_add(group, self.channel)
            except BaseException:
                self.joined_at.pop(group, None)
                self._forget(group, consumer)
                raise
        if self.receiver is None or self.receiver.done():
            self.receiver = self.loop.create_task(self._receive())
        if isinstance(self.layer, InMemoryChannelLayer):
            await self._start_relay()

    async def release(self, consumer) -> None:
        """Deliver what arrived for ``consumer`` while it was held, then deliver as it comes."""
        while self.held.get(consumer):
            await self._deliver_one(consumer, self.held[consumer].pop(0))
        self.held.pop(consumer, None)

    async def leave(self, group: str, consumer) -> None:
        self._forget(group, consumer)
        if group not in self.sockets and self.joined_at.pop(group, None) is not None:
            try:
                await self.layer.group_discard(group, self.channel)
            except Exception:  # noqa: BLE001 - a stale membership only costs a message nobody reads
                logger.warning("Leaving group %s failed", group, exc_info=True)
        if not self.sockets and self.receiver is not None:
            # The channel ends with its receive loop (the pub/sub layer unsubscribes it when the
            # receive is cancelled): the next socket starts with a new one.
            self.receiver.cancel()
            self.receiver = None
            self.channel = None
            self.joined_at.clear()
        if not self.sockets and self.relay is not None:
            self.relay.cancel()
            self.relay = None

    def _forget(self, group: str, consumer) -> None:
        self.held.pop(consumer, None)
        local = self.sockets.get(group)
        if local is not None:
            local.discard(consumer)
            if not local:
                del self.sockets[group]

    def local_sockets(self, group: str) -> int:
        return len(self.sockets.get(group, ()))

    async def _receive(self) -> None:
        backoff = 0.1
        while self.sockets:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except RedisTimeoutError:
                # redis-py 8 reads with a 5 s timeout, the time channels-redis blocks in BZPOPMIN
                # on an idle channel: on a quiet room the read may time out first. Nothing is
                # lost (nothing was there to read); wait again. (Per-socket receive loops died of
                # this: tests/faults/test_broadcast_once.py.)
                continue
            except Exception:  # noqa: BLE001 - Redis restarting
                logger.warning("Receiving group messages failed; retrying in %.1f s", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                await self._rejoin()
                continue
            backoff = 0.1
            await self._deliver(message)

    async def _rejoin(self) -> None:
        # A restarted Redis may have lost the memberships: add the channel to every group again
        # (idempotent). Messages sent meanwhile are lost; the broadcaster retries, clients resync.
        for group in list(self.sockets):
            try:
                await self.layer.group_add(group, self.channel)
                self.joined_at[group] = time.monotonic()
            except Exception:  # noqa: BLE001
                return

    async def _start_relay(self) -> None:
        # Where to start is read before join returns, so before the socket loads its state: a
        # worker's broadcast committed after the snapshot was read is always relayed.
        async with self._relay_lock:
            if self.relay is not None and not self.relay.done():
                return
            try:
                last_id = await database_sync_to_async(outbox_last_id)()
            except Exception:  # noqa: BLE001 - the loop reads it again; broadcasts are best-effort
                logger.warning("Reading the broadcast outbox failed", exc_info=True)
                last_id = None
            self.relay = self.loop.create_task(self._relay(last_id))

    async def _relay(self, last_id: int | None) -> None:
        while self.sockets:
            await asyncio.sleep(OUTBOX_POLL_SECONDS)
            try:
                if last_id is None:
                    last_id = await database_sync_to_async(outbox_last_id)()
                    continue
                rows = await database_sync_to_async(outbox_after)(last_id)
            except Exception:  # noqa: BLE001 - the database briefly away: read again next time
                logger.warning("Reading the broadcast outbox failed", exc_info=True)
                continue
            for row_id, group, message in rows:
                last_id = row_id
                try:
                    await self.layer.group_send(group, group_message(group, message))
                except Exception:  # noqa: BLE001
                    logger.warning("Relaying a broadcast to %s failed", group, exc_info=True)

    async def _deliver(self, message: dict) -> None:
        group = message.get("group")
        handler = get_handler_name(message)  # once per message, not once per socket
        for consumer in list(self.sockets.get(group, ())):
            held = self.held.get(consumer)
            if held is not None:
                held.append(message)
            else:
                await self._deliver_one(consumer, message, handler)

    async def _deliver_one(self, consumer, message: dict, handler: str | None = None) -> None:
        try:
            await getattr(consumer, handler or get_handler_name(message))(message)
        except Exception:  # noqa: BLE001 - one closed socket must not keep the others waiting
            logger.debug("Delivering %s to a closed socket failed", message.get("type"), exc_info=True)


_process_groups: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def process_groups() -> ProcessGroups:
    """This process's ``ProcessGroups`` (for the running event loop and the current channel layer)."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    hub = _process_groups.get(loop)
    if hub is None or hub.layer is not layer:
        hub = _process_groups[loop] = ProcessGroups(layer, loop)
    return hub


def group_message(group: str, message: dict) -> dict:
    """``message`` as sent to ``group``: it names its group, so a process delivers it to that
    group's sockets (a process's one channel is in every group it has sockets in)."""
    return {**message, "group": group}

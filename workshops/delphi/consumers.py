"""The live Delphi round: ``ws/rounds/<round_id>/``. Protocol in docs/realtime.md.

Thin: authenticate from the session (``scope["user"]``), authorise through a selector, join the
round's group *before* loading the snapshot (so no event falls between the two), then turn
client messages into ``vote_cast`` calls and group events into client messages.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError, connection

from workshops import realtime
from workshops.delphi.realtime import register_loop, round_group
from workshops.delphi.selectors import round_access, round_snapshot
from workshops.delphi.services import DelphiError, vote_cast

logger = logging.getLogger(__name__)

BAD_MESSAGE = "Messages must be JSON objects with a known “type” (vote or resync)."
BAD_VOTE = "A vote needs a client_id (text), an item (number) and a value (0–3)."
UNAVAILABLE = "The vote could not be stored just now; it was not recorded. Send it again."


# Votes wait mostly on the database (a commit is an fsync), so with persistent PostgreSQL
# connections (DB_CONN_MAX_AGE > 0, as in production) a room's votes run side by side on threads
# and connections of their own. Otherwise every call runs on Django's one sync thread: SQLite
# serialises writers anyway, and a connection per call would cost more than it saves.
_executor = ThreadPoolExecutor(max_workers=settings.DELPHI_DB_THREADS, thread_name_prefix="delphi-db")


def _db(func):
    if connection.vendor == "sqlite" or not connection.settings_dict.get("CONN_MAX_AGE"):
        return database_sync_to_async(func)
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor)


class RoundConsumer(AsyncJsonWebsocketConsumer):
    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, which costs a hop to
        # the sync thread per message: with 200 screens that is 200 hops per broadcast. Group
        # events here never touch the database, and every database call of this consumer goes
        # through database_sync_to_async, which closes stale connections on its own thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if not realtime.signed_in(user):
            await realtime.refuse(self, realtime.CLOSE_NOT_SIGNED_IN)
            return
        self.round_id = int(self.scope["url_route"]["kwargs"]["round_id"])
        view = await _db(round_access)(user=user, round_id=self.round_id)
        if view is None:
            await realtime.refuse(self, realtime.CLOSE_NOT_ALLOWED)
            return
        self.user = user
        self.view = view
        self.is_convener = view.is_convener
        self.group = round_group(self.round_id)
        register_loop(asyncio.get_running_loop())
        # Register for events first, then load the state: a change in between arrives as an
        # event with a higher sequence than the snapshot's, never not at all.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_snapshot()

    async def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _send_snapshot(self):
        await self.send_json(await _db(round_snapshot)(view=self.view, user=self.user))

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "vote":
            await self._vote(content)
        elif kind == "resync":
            await self._send_snapshot()
        else:
            client_id = content.get("client_id") if isinstance(content, dict) else None
            await self.send_json(
                {"type": "error", "client_id": client_id, "code": "invalid_request", "message": BAD_MESSAGE}
            )

    async def _vote(self, content: dict):
        client_id = content.get("client_id")
        if not isinstance(client_id, str) or not client_id or "item" not in content or "value" not in content:
            await self.send_json(
                {"type": "error", "client_id": client_id, "code": "invalid_request", "message": BAD_VOTE}
            )
            return
        try:
            ack = await _db(vote_cast)(
                round_id=self.round_id,
                panellist=self.user,
                item_id=content.get("item"),
                value=content.get("value"),
                rationale=content.get("rationale") or "",
                client_id=client_id,
            )
        except DelphiError as error:
            await self.send_json(
                {"type": "error", "client_id": client_id, "code": error.code, "message": error.message}
            )
            return
        except DatabaseError:
            logger.warning("Vote %s not stored: database unavailable", client_id, exc_info=True)
            await self.send_json(
                {"type": "error", "client_id": client_id, "code": "unavailable", "message": UNAVAILABLE, "retry": True}
            )
            return
        await self.send_json(ack.as_message())

    # Group events (sent by workshops.delphi.realtime) ------------------------------------------

    async def round_state(self, event):
        await self.send(text_data=event["progress"])
        if self.is_convener:
            await self.send(text_data=event["distribution_all"])
        elif event["distribution_public"] is not None:
            await self.send(text_data=event["distribution_public"])

    async def round_closed(self, event):
        await self.send_json(event["payload"])

"""The live Delphi round: ``ws/rounds/<round_id>/``. Protocol in docs/realtime.md.

Thin: authenticate from the session (``scope["user"]``), authorise through a selector, join the
round's group *before* loading the snapshot (so no event falls between the two), then turn
client messages into ``vote_cast`` calls and group events into client messages.

A socket has no channel-layer channel of its own: the round's group events reach this process
once, through ``workshops.realtime.process_groups()``, which calls the handlers below for each of
its sockets of the round (a room of 1,000 screens is otherwise 1,000 receive loops on Redis).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, DataError, connection

from workshops import realtime
from workshops.delphi import live_votes
from workshops.delphi.realtime import register_loop, round_group
from workshops.delphi.selectors import round_access, round_snapshot
from workshops.delphi.services import (
    CANT_JUDGE_WITH_VALUE,
    CLIENT_ID_LIMIT,
    CLIENT_ID_TOO_LONG,
    RATIONALE_NOT_TEXT,
    VALUE_OUT_OF_RANGE,
    DelphiError,
    vote_cast,
)

logger = logging.getLogger(__name__)

BAD_MESSAGE = "Messages must be JSON objects with a known “type” (vote or resync)."
BAD_VOTE = "A vote needs a client_id (text), an item (number) and a value (0–3), or cant_judge: true."
BAD_CANT_JUDGE = "A vote's cant_judge must be true or false (a JSON boolean)."
BAD_CLIENT_ID = "A vote's client_id must be text of 1 to 64 characters (a UUID)."
BAD_ITEM = "A vote's item must be an item id: a JSON integer, not text."
UNAVAILABLE = "The vote could not be stored just now; it was not recorded. Send it again."
NOT_STORED = "The vote could not be stored: it was not recorded."


def _is_integer(value) -> bool:
    # A JSON integer: not a boolean (a subclass of int), not a float, not a numeric string.
    return isinstance(value, int) and not isinstance(value, bool)


def vote_fields(content: dict) -> dict:
    """The arguments of ``vote_cast`` from a ``vote`` frame, with the frame's types checked.

    The service converts form strings (the HTTP path posts text); the socket speaks JSON, where a
    number is a number: ``"2"``, ``2.0`` and ``true`` are not values, ``"7"`` is not an item id.
    "I can't judge this" is ``"cant_judge": true`` with the value absent or null.
    """
    client_id = content.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise DelphiError("invalid_request", BAD_VOTE if client_id is None else BAD_CLIENT_ID)
    if len(client_id) > CLIENT_ID_LIMIT:
        raise DelphiError("invalid_request", CLIENT_ID_TOO_LONG)
    cant_judge = content.get("cant_judge", False)
    if cant_judge is None:
        cant_judge = False
    if not isinstance(cant_judge, bool):
        raise DelphiError("invalid_value", BAD_CANT_JUDGE)
    if "item" not in content or ("value" not in content and not cant_judge):
        raise DelphiError("invalid_request", BAD_VOTE)
    if not _is_integer(content["item"]):
        raise DelphiError("invalid_request", BAD_ITEM)
    value = content.get("value")
    if cant_judge:
        if value is not None:
            raise DelphiError("invalid_value", CANT_JUDGE_WITH_VALUE)
    elif not _is_integer(value):
        raise DelphiError("invalid_value", VALUE_OUT_OF_RANGE)
    rationale = content.get("rationale")
    if rationale is not None and not isinstance(rationale, str):
        raise DelphiError("invalid_rationale", RATIONALE_NOT_TEXT)
    return {
        "item_id": content["item"],
        "value": value,
        "cant_judge": cant_judge,
        "rationale": rationale or "",
        "client_id": client_id,
    }


# Votes wait mostly on the database (a commit is an fsync), so with persistent PostgreSQL
# connections (DB_CONN_MAX_AGE > 0, as in production) a room's votes run side by side on threads
# and connections of their own. Otherwise every call runs on Django's one sync thread: SQLite
# serialises writers anyway, and a connection per call would cost more than it saves.
_executor = ThreadPoolExecutor(max_workers=settings.DELPHI_DB_THREADS, thread_name_prefix="delphi-db")


def _db(func):
    if connection.vendor == "sqlite" or not connection.settings_dict.get("CONN_MAX_AGE"):
        return database_sync_to_async(func)
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor)


async def _vote_cast_on_thread(**kwargs):
    return await _db(vote_cast)(**kwargs)


class RoundConsumer(realtime.ProcessGroupConsumer):
    # Group events come from the process's one subscription (process_groups), client frames from
    # the server.

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, which costs a hop to
        # the sync thread per message. Every database call of this consumer goes through
        # database_sync_to_async, which closes stale connections on its own thread.
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
        view = await _db(self._admit)(user)
        if view is None:
            await realtime.refuse(self, realtime.CLOSE_NOT_ALLOWED)
            return
        self.user = user
        self.view = view
        self.is_convener = view.is_convener
        self.votes_on_loop = live_votes.enabled()
        register_loop(asyncio.get_running_loop())
        # Register for events first, then load the state: a change in between arrives as an
        # event with a higher sequence than the snapshot's, never not at all. Events are held
        # until the snapshot is sent, so the snapshot is always the socket's first frame.
        await self.accept_in_group(round_group(self.round_id), self._send_snapshot)

    def _admit(self, user):
        # The member's access to the round, unless the cycle refuses this session's sign-in: one
        # trip to a database thread per connection.
        view = round_access(user=user, round_id=self.round_id)
        if view is None or realtime.sign_in_refused(self.scope, view.round.cycle):
            return None
        return view

    async def _send_snapshot(self):
        await self.send_json(await _db(round_snapshot)(view=self.view, user=self.user))

    async def receive_json(self, content, **kwargs):
        # ``content`` is a JSON object with a text ``type`` (JsonFrameConsumer checked the frame).
        kind = content["type"]
        if kind == "vote":
            await self._vote(content)
        elif kind == "resync":
            await self._send_snapshot()
        else:
            await self.send_error("invalid_request", BAD_MESSAGE, client_id=content.get("client_id"))

    async def _vote(self, content: dict):
        client_id = content.get("client_id")
        try:
            fields = vote_fields(content)
            if self.votes_on_loop:
                ack = await live_votes.vote_cast(
                    round_id=self.round_id, panellist=self.user, fallback=_vote_cast_on_thread, **fields
                )
            else:
                ack = await _db(vote_cast)(round_id=self.round_id, panellist=self.user, **fields)
        except DelphiError as error:
            await self.send_error(error.code, error.message, client_id=client_id)
            return
        except DataError:
            # Data the database refuses (the checks above should leave none): sending it again
            # cannot succeed.
            logger.warning("Vote %s not stored: the database refused its data", client_id, exc_info=True)
            await self.send_error("invalid_request", NOT_STORED, client_id=client_id)
            return
        except DatabaseError:
            logger.warning("Vote %s not stored: database unavailable", client_id, exc_info=True)
            await self.send_error("unavailable", UNAVAILABLE, client_id=client_id, retry=True)
            return
        await self.send_json(ack.as_message())

    # Group events (sent by workshops.delphi.realtime) ------------------------------------------

    async def round_state(self, event):
        # One frame per broadcast: the progress, with the distributions this viewer may see when
        # they changed since the last broadcast (None otherwise: the progress alone). The public
        # ones are already without items below the anonymity floor (realtime.py applies
        # public_quorum).
        frame = event["progress_all"] if self.is_convener else event["progress_public"]
        await self.send_text(frame or event["progress"])

    async def round_closed(self, event):
        await self.send_json(event["payload"])

    async def round_discussing(self, event):
        await self.send_json(event["payload"])

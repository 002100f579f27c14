"""The live round's votes on PostgreSQL without a thread hop: ``_CAST`` on the event loop.

A vote on the socket is one statement in autocommit (``services._CAST``: the checks, the sequence
bump, the upsert and the receipt). Running it through ``database_sync_to_async`` cost more CPU
than the statement itself (a thread-pool hand-off each way, asgiref's context copying, Django's
cursor wrapper, client-side parameter quoting, and the GIL passed back and forth). Here each
server process keeps a few asyncio psycopg connections of its own (``DELPHI_VOTE_CONNECTIONS`` at
most, opened on first use, each kept no longer than ``CONN_MAX_AGE``) and runs the statement
prepared, with server-side parameters, on the event loop. A few: the votes of a round take turns on
its row's lock (the sequence bump) anyway, and more of them at once only wait in PostgreSQL's
tuple-lock queue, where the waiters convoy (at 16 per process, with 1,000 voters, ~1,650
statements of a run took over 100 ms, waiting for the lock; at 4, 7 to 25 did).

psycopg opens and closes these connections; the statement itself goes through its libpq
connection (``pgconn``) directly: prepared once per connection under one name, its parameters in
libpq's text format, the reply awaited on the socket. psycopg's ``cursor.execute`` cost about
four times as much CPU (140 against 37 µs of the client's CPU per statement in a
micro-benchmark: its lock, query conversion, adapters, a wait generator that registers and
removes the socket and a timer for every wait, and all eleven columns loaded into Python
objects), the largest part of a vote on the loop; the vote needs two of the columns.

Only the common case is handled here: a vote that every check lets through and that is stored.
The statement commits before it returns its row (autocommit), so the acknowledgement still
follows the commit, and the broadcast is announced after it. Anything else — a refusal, a resend
of an acknowledged client id, a resend racing itself (the receipt's unique constraint) — is
answered by the synchronous ``services.vote_cast``, which reads the same state again and answers
in the one order both database paths use (running ``_CAST`` again is harmless: it writes only
when every check passes, and never twice for one client id).

Used with PostgreSQL and persistent connections (``CONN_MAX_AGE`` > 0, as in services mode);
otherwise the consumer calls ``vote_cast`` through ``database_sync_to_async`` as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import DatabaseError, DataError, connections
from psycopg import pq

from workshops.delphi import services
from workshops.delphi.realtime import announce_round_change_from_loop

logger = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether votes take this path: PostgreSQL with persistent connections, unless the setting
    ``DELPHI_ASYNC_VOTES`` says otherwise (true or false; the tests turn it on)."""
    wrapper = connections["default"]
    if wrapper.vendor != "postgresql":
        return False
    chosen = getattr(settings, "DELPHI_ASYNC_VOTES", None)
    return bool(wrapper.settings_dict.get("CONN_MAX_AGE")) if chosen is None else bool(chosen)


def _positional(query: str) -> tuple[bytes, tuple[str, ...]]:
    """``query`` with psycopg's ``%(name)s`` placeholders as libpq's ``$1``, ``$2``…, and the
    names in that order (a name used twice is one parameter, as psycopg sends it)."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, query).encode(), tuple(names)


_CAST_SQL, _CAST_NAMES = _positional(services._CAST)
_CAST_NAME = b"delphi_cast"  # the statement's name on each of these connections
# _CAST's row: the round's id, and the new sequence (NULL when the vote was not stored).
_ROUND, _SEQUENCE = 0, 8


def _text(value) -> bytes | None:
    """A parameter in libpq's text format: the literal PostgreSQL parses for the parameter's type
    (the types are the statement's: every placeholder is compared with, cast to or stored in a
    typed column). Text arrives checked by ``vote_prepare``: no NUL, valid UTF-8 (the
    connection's encoding, Django's ``client_encoding``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime):
        return value.isoformat().encode()  # aware (USE_TZ): the offset is in the text
    return str(value).encode()


class _StatementError(Exception):
    """The statement's error result: its SQLSTATE and message."""

    def __init__(self, sqlstate: bytes, message: str):
        super().__init__(message)
        self.sqlstate = sqlstate


async def _wait(loop: asyncio.AbstractEventLoop, fd: int, add, remove) -> None:
    # Until ``fd`` is ready (``add`` is loop.add_reader or loop.add_writer): registered only
    # while a statement waits, so an idle connection the server closes costs nothing.
    ready = loop.create_future()
    add(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        remove(fd)


async def _result(pgconn: pq.abc.PGconn) -> pq.abc.PGresult:
    """The result of the command just sent on ``pgconn``: the first (the only one of one
    statement in autocommit) after reading all of them, so the connection is idle again."""
    loop = asyncio.get_running_loop()
    fd = pgconn.socket
    while pgconn.flush():  # the rest of a long command did not fit in the socket's buffer
        await _wait(loop, fd, loop.add_writer, loop.remove_writer)
    first = None
    while True:
        pgconn.consume_input()
        if pgconn.is_busy():
            await _wait(loop, fd, loop.add_reader, loop.remove_reader)
            continue
        result = pgconn.get_result()
        if result is None:
            break
        if first is None:
            first = result
    if first is None:
        raise psycopg.OperationalError("no result from the server")
    if first.status == pq.ExecStatus.FATAL_ERROR:
        sqlstate = first.error_field(pq.DiagnosticField.SQLSTATE) or b""
        raise _StatementError(sqlstate, first.get_error_message().strip())
    return first


class VoteConnections:
    """A few autocommit asyncio connections of one event loop, used one statement at a time."""

    def __init__(self, size: int):
        self.slots = asyncio.Semaphore(max(size, 1))
        self.idle: list[tuple[psycopg.AsyncConnection, float]] = []
        self.closed = False
        self.max_age = connections["default"].settings_dict.get("CONN_MAX_AGE")

    async def _connect(self) -> tuple[psycopg.AsyncConnection, float]:
        wrapper = connections["default"]
        params = wrapper.get_connection_params()  # the same database, options and application_name
        params.pop("cursor_factory", None)  # Django's is a synchronous, client-side binding cursor
        conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        try:
            conn.pgconn.send_prepare(_CAST_NAME, _CAST_SQL)  # the parameters' types are inferred
            await _result(conn.pgconn)
        except BaseException:
            await self._discard(conn)
            raise
        return conn, time.monotonic()

    def _reusable(self, opened_at: float) -> bool:
        return not self.closed and (self.max_age is None or time.monotonic() - opened_at < self.max_age)

    async def cast(self, params: dict) -> tuple[int, int | None] | None:
        """``_CAST``'s round id and new sequence (the sequence ``None`` when it stored nothing).
        Database errors are Django's (``DataError``, ``DatabaseError``); ``None`` when it broke a
        unique constraint (a resend racing itself) or found no round."""
        async with self.slots:
            conn, opened_at = self.idle.pop() if self.idle else await self._open()
            try:
                conn.pgconn.send_query_prepared(_CAST_NAME, [_text(params[name]) for name in _CAST_NAMES])
                result = await _result(conn.pgconn)
            except _StatementError as error:
                await self._release(conn, opened_at)
                if error.sqlstate.startswith(b"23"):  # integrity constraint violation
                    return None
                if error.sqlstate.startswith(b"22"):  # data exception
                    raise DataError(str(error)) from error
                raise DatabaseError(str(error)) from error
            except psycopg.Error as error:
                # The connection may be gone (a restart, a terminated backend): never reuse it.
                await self._discard(conn)
                raise DatabaseError(str(error)) from error
            except BaseException:
                await self._discard(conn)  # cancelled mid-statement: its state is unknown
                raise
            await self._release(conn, opened_at)
            if result.ntuples == 0:
                return None
            sequence = result.get_value(0, _SEQUENCE)
            return int(result.get_value(0, _ROUND)), None if sequence is None else int(sequence)

    async def _open(self) -> tuple[psycopg.AsyncConnection, float]:
        try:
            return await self._connect()
        except (psycopg.Error, _StatementError) as error:
            raise DatabaseError(str(error)) from error

    async def _release(self, conn: psycopg.AsyncConnection, opened_at: float) -> None:
        pgconn = conn.pgconn
        idle = pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == pq.TransactionStatus.IDLE
        if idle and self._reusable(opened_at):
            self.idle.append((conn, opened_at))
        else:
            await self._discard(conn)

    async def _discard(self, conn: psycopg.AsyncConnection) -> None:
        try:
            await conn.close()
        except Exception:  # noqa: BLE001 - already gone
            logger.debug("Closing a vote connection failed", exc_info=True)

    async def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for conn, _ in idle:
            await self._discard(conn)


_per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def vote_connections() -> VoteConnections:
    """This event loop's connections (a server has one loop; each test its own)."""
    loop = asyncio.get_running_loop()
    pool = _per_loop.get(loop)
    if pool is None or pool.closed:
        pool = _per_loop[loop] = VoteConnections(settings.DELPHI_VOTE_CONNECTIONS)
    return pool


async def close_vote_connections() -> None:
    """Close this event loop's connections (tests, before their loop ends)."""
    pool = _per_loop.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()


async def vote_cast(*, round_id: int, panellist, fallback, **fields) -> services.VoteAck:
    """``services.vote_cast`` for the socket: stored here when every check passes, otherwise
    answered by ``await fallback(round_id=..., panellist=..., **fields)`` (the synchronous
    service, through a thread). Raises what it raises."""
    vote = services.vote_prepare(round_id=round_id, panellist=panellist, **fields)
    stored = await vote_connections().cast(services.cast_params(vote))
    if stored is None or stored[1] is None:
        return await fallback(round_id=round_id, panellist=panellist, **fields)
    round_pk, sequence = stored
    await announce_round_change_from_loop(round_pk)  # committed: the statement ran in autocommit
    return services.vote_ack(vote, round_pk=round_pk, sequence=sequence)

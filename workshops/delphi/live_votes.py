"""The live round's votes on PostgreSQL without a thread hop: ``_CAST`` on the event loop.

A vote on the socket is one statement in autocommit (``services._CAST``: the checks, the sequence
bump, the upsert and the receipt). Running it through ``database_sync_to_async`` cost more CPU
than the statement itself (a thread-pool hand-off each way, asgiref's context copying, Django's
cursor wrapper, client-side parameter quoting, and the GIL passed back and forth). Here each
server process keeps a few asyncio psycopg connections of its own (``DELPHI_DB_THREADS`` at most,
opened on first use, each kept no longer than ``CONN_MAX_AGE``) and runs the statement prepared,
with server-side parameters, on the event loop.

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
import time
import weakref

import psycopg
from django.conf import settings
from django.db import DatabaseError, DataError, connections

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


class VoteConnections:
    """A few autocommit asyncio connections of one event loop, used one statement at a time."""

    def __init__(self, size: int):
        self.slots = asyncio.Semaphore(max(size, 1))
        self.idle: list[tuple[psycopg.AsyncConnection, float]] = []
        self.closed = False

    async def _connect(self) -> tuple[psycopg.AsyncConnection, float]:
        wrapper = connections["default"]
        params = wrapper.get_connection_params()  # the same database, options and application_name
        params.pop("cursor_factory", None)  # Django's is a synchronous, client-side binding cursor
        params["prepare_threshold"] = None  # prepared only where asked (prepare=True below)
        conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        return conn, time.monotonic()

    def _reusable(self, opened_at: float) -> bool:
        max_age = connections["default"].settings_dict.get("CONN_MAX_AGE")
        return not self.closed and (max_age is None or time.monotonic() - opened_at < max_age)

    async def fetchone(self, query: str, params: dict):
        """The statement's one row. Database errors are Django's (``DataError``, ``DatabaseError``);
        ``None`` when it broke a unique constraint (a resend racing itself)."""
        async with self.slots:
            conn, opened_at = self.idle.pop() if self.idle else await self._open()
            try:
                async with conn.cursor() as cursor:
                    await cursor.execute(query, params, prepare=True)
                    row = await cursor.fetchone()
            except psycopg.IntegrityError:
                await self._release(conn, opened_at)
                return None
            except psycopg.DataError as error:
                await self._release(conn, opened_at)
                raise DataError(str(error)) from error
            except psycopg.Error as error:
                # The connection may be gone (a restart, a terminated backend): never reuse it.
                await self._discard(conn)
                raise DatabaseError(str(error)) from error
            except BaseException:
                await self._discard(conn)  # cancelled mid-statement: its state is unknown
                raise
            await self._release(conn, opened_at)
            return row

    async def _open(self) -> tuple[psycopg.AsyncConnection, float]:
        try:
            return await self._connect()
        except psycopg.Error as error:
            raise DatabaseError(str(error)) from error

    async def _release(self, conn: psycopg.AsyncConnection, opened_at: float) -> None:
        idle = not conn.broken and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
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
        pool = _per_loop[loop] = VoteConnections(settings.DELPHI_DB_THREADS)
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
    row = await vote_connections().fetchone(services._CAST, services.cast_params(vote))
    if row is None or row[8] is None:
        return await fallback(round_id=round_id, panellist=panellist, **fields)
    await announce_round_change_from_loop(row[0])  # committed: the statement ran in autocommit
    return services.vote_ack(vote, round_pk=row[0], sequence=int(row[8]))

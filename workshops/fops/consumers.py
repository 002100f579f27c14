"""The live FOP page: who else is looking, and changes after they are committed.

Like a round or capture screen, the socket has no channel-layer channel of its own: the FOP's
group events reach this process once, through its one subscription
(``realtime.process_groups()``), which hands them to each of its sockets of the FOP.

Presence needs no shared store. Each connection has an opaque id, a random token made when it
connects (``you`` in its ``hello``). After its ``hello``, a newcomer announces itself to the FOP's
group (``presence.join``); every socket already there tells its browser and answers through the
group with a ``presence.here`` addressed ``to`` the newcomer's id, which only the newcomer's socket
forwards; a leaver says goodbye (``presence.leave``). Each tab is a connection of its own, so two
tabs of one person are two ids with one name, and the page lists each name once. Changes are made
over HTTP through the services, which broadcast after commit (``workshops.realtime``). Presence
is best-effort, as every broadcast is: a page whose answers were lost lists fewer people until
its next connection.
"""

from __future__ import annotations

import logging
import secrets

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from workshops import realtime
from workshops.fops.selectors import fop_for_member
from workshops.fops.services import FOP_GROUP

logger = logging.getLogger(__name__)

LISTEN_ONLY = "This socket only listens: change the FOP with the page's forms."


class FOPConsumer(realtime.ProcessGroupConsumer):
    connection_id: str = ""
    name: str = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not realtime.signed_in(user):
            await realtime.refuse(self, realtime.CLOSE_NOT_SIGNED_IN)
            return
        fop_id = int(self.scope["url_route"]["kwargs"]["fop_id"])
        fop = await database_sync_to_async(fop_for_member)(user=user, fop_id=fop_id)
        if fop is None or await database_sync_to_async(realtime.sign_in_refused)(self.scope, fop.cycle):
            await realtime.refuse(self, realtime.CLOSE_NOT_ALLOWED)
            return
        self.name = user.get_full_name() or user.email
        self.connection_id = secrets.token_hex(8)
        hello = {"type": "hello", "fop": fop.pk, "you": self.connection_id, "history_hash": fop.history_hash}
        # Join before accepting so no change committed after the page loaded is missed; the
        # hello is the first frame, and the others hear of the newcomer only after it.
        await self.accept_in_group(realtime.group_name(FOP_GROUP, fop.pk), lambda: self.send_json(hello))
        await self._to_group({"type": "presence.join", "id": self.connection_id, "name": self.name})

    async def disconnect(self, code: int) -> None:
        try:
            if self.group:
                await self._to_group({"type": "presence.leave", "id": self.connection_id, "name": self.name})
        finally:
            await super().disconnect(code)

    async def _to_group(self, message: dict) -> None:
        # Best-effort, like every broadcast: a failed presence message must not fail the socket
        # (or, on disconnect, keep it in the process's groups).
        try:
            await get_channel_layer().group_send(self.group, realtime.group_message(self.group, message))
        except Exception:  # noqa: BLE001
            logger.warning("Presence %s to %s failed", message["type"], self.group, exc_info=True)

    async def receive_json(self, content, **kwargs) -> None:
        # ``content`` is a JSON object with a text ``type`` (JsonFrameConsumer checked the frame).
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error(realtime.INVALID_REQUEST, LISTEN_ONLY, client_id=content.get("client_id"))

    # --- group events ---------------------------------------------------------------------------

    async def presence_join(self, event: dict) -> None:
        if event["id"] == self.connection_id:
            return
        await self.send_json({"type": "presence", "action": "join", "id": event["id"], "name": event["name"]})
        # Tell the newcomer that we are here too: through the group, addressed to it alone.
        await self._to_group({"type": "presence.here", "to": event["id"], "id": self.connection_id, "name": self.name})

    async def presence_here(self, event: dict) -> None:
        if event.get("to") != self.connection_id:
            return
        await self.send_json({"type": "presence", "action": "here", "id": event["id"], "name": event["name"]})

    async def presence_leave(self, event: dict) -> None:
        if event["id"] == self.connection_id:
            return
        await self.send_json({"type": "presence", "action": "leave", "id": event["id"], "name": event["name"]})

    async def fop_changed(self, event: dict) -> None:
        await self.send_json(
            {
                "type": "changed",
                "fop": event["fop"],
                "action": event["action"],
                "actor": event["actor"],
                "summary": event["summary"],
                "history_hash": event.get("history_hash", ""),
            }
        )

"""The live FOP page: who else is looking, and changes after they are committed.

Presence needs no shared store: a newcomer announces itself to the FOP's group, everyone already
there answers it directly, and a leaver says goodbye. Each connection has an opaque id (a digest
of its channel name), so two tabs of one person count once on screen. Changes are made over
HTTP through the services, which broadcast after commit (``workshops.realtime``).
"""

from __future__ import annotations

import hashlib

from channels.db import database_sync_to_async

from workshops import realtime
from workshops.fops.selectors import fop_for_member
from workshops.fops.services import FOP_GROUP

LISTEN_ONLY = "This socket only listens: change the FOP with the page's forms."


class FOPConsumer(realtime.JsonFrameConsumer):
    group: str | None = None
    name: str = ""

    @property
    def connection_id(self) -> str:
        return hashlib.sha256(self.channel_name.encode()).hexdigest()[:16]

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
        # Join before accepting so no change committed after the page loaded is missed.
        self.group = realtime.group_name(FOP_GROUP, fop.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(
            {"type": "hello", "fop": fop.pk, "you": self.connection_id, "history_hash": fop.history_hash}
        )
        await self.channel_layer.group_send(
            self.group,
            {"type": "presence.join", "reply_to": self.channel_name, "id": self.connection_id, "name": self.name},
        )

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_send(
                self.group, {"type": "presence.leave", "id": self.connection_id, "name": self.name}
            )
            await self.channel_layer.group_discard(self.group, self.channel_name)

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
        # Tell the newcomer that we are here too.
        await self.channel_layer.send(
            event["reply_to"], {"type": "presence.here", "id": self.connection_id, "name": self.name}
        )

    async def presence_here(self, event: dict) -> None:
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

"""The live capture screen: members of a cycle hear about new and changed capability statements.

Statements are submitted over HTTP (one service path, forms with errors); the socket only
listens. Events arrive after commit through ``workshops.realtime``: like a round screen, the socket
has no channel-layer channel of its own; the process's one subscription
(``realtime.process_groups()``) hands it its cycle's events.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from workshops import realtime
from workshops.capture.selectors import capture_access
from workshops.capture.services import CAPTURE_GROUP

LISTEN_ONLY = "This socket only listens: submit statements with the form."


class CaptureConsumer(realtime.ProcessGroupConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if not realtime.signed_in(user):
            await realtime.refuse(self, realtime.CLOSE_NOT_SIGNED_IN)
            return
        slug = self.scope["url_route"]["kwargs"]["slug"]
        access = await database_sync_to_async(capture_access)(user=user, slug=slug)
        if access is None or await database_sync_to_async(realtime.sign_in_refused)(self.scope, access.cycle):
            await realtime.refuse(self, realtime.CLOSE_NOT_ALLOWED)
            return
        # Join before accepting so no event committed after the page loaded is missed.
        await self.accept_in_group(
            realtime.group_name(CAPTURE_GROUP, access.cycle.id),
            lambda: self.send_json({"type": "hello", "cycle": slug}),
        )

    async def receive_json(self, content, **kwargs) -> None:
        # ``content`` is a JSON object with a text ``type`` (JsonFrameConsumer checked the frame).
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error(realtime.INVALID_REQUEST, LISTEN_ONLY, client_id=content.get("client_id"))

    async def capture_event(self, event: dict) -> None:
        await self.send_json({"type": "capture", "action": event["action"], "capabilities": event["capabilities"]})

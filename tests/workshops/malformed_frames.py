"""The malformed frames every listening live room must answer with the documented error and stay
open (docs/realtime.md): one list, used by the capture and FOP consumers' tests."""

import json

from workshops.realtime import MAX_FRAME_BYTES

MALFORMED = [
    ("not JSON", {"type": "websocket.receive", "text": "ping"}, "invalid_request"),
    ("empty text", {"type": "websocket.receive", "text": ""}, "invalid_request"),
    ("binary", {"type": "websocket.receive", "bytes": b'{"type": "ping"}'}, "invalid_request"),
    ("a JSON array", {"type": "websocket.receive", "text": '["ping"]'}, "invalid_request"),
    ("no type", {"type": "websocket.receive", "text": '{"ping": true}'}, "invalid_request"),
    ("type not text", {"type": "websocket.receive", "text": '{"type": 1}'}, "invalid_request"),
    ("unknown type", {"type": "websocket.receive", "text": '{"type": "submit"}'}, "invalid_request"),
    (
        "over the size limit",
        {"type": "websocket.receive", "text": json.dumps({"type": "ping", "pad": "x" * MAX_FRAME_BYTES})},
        "frame_too_large",
    ),
]

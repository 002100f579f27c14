from workshops.capture.consumers import CaptureConsumer
from workshops.realtime import WS_CAPTURE, ws_route

websocket_urlpatterns = [
    ws_route(WS_CAPTURE, CaptureConsumer.as_asgi()),
]

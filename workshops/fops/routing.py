from workshops.fops.consumers import FOPConsumer
from workshops.realtime import WS_FOP, ws_route

websocket_urlpatterns = [
    ws_route(WS_FOP, FOPConsumer.as_asgi()),
]

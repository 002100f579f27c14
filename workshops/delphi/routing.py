from workshops.delphi.consumers import RoundConsumer
from workshops.realtime import WS_ROUND, ws_route

websocket_urlpatterns = [
    ws_route(WS_ROUND, RoundConsumer.as_asgi()),
]

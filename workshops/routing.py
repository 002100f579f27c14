"""Websocket routes of the workshops app, one list per live screen."""

from workshops.capture.routing import websocket_urlpatterns as capture_ws
from workshops.delphi.routing import websocket_urlpatterns as delphi_ws
from workshops.fops.routing import websocket_urlpatterns as fops_ws

websocket_urlpatterns = [*capture_ws, *delphi_ws, *fops_ws]

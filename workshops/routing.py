"""Websocket routes of the workshops app, one list per live screen."""

from workshops.routing_capture import websocket_urlpatterns as capture_ws
from workshops.routing_delphi import websocket_urlpatterns as delphi_ws
from workshops.routing_fops import websocket_urlpatterns as fops_ws

websocket_urlpatterns = [*capture_ws, *delphi_ws, *fops_ws]

"""Every websocket URL of the product, gathered from the apps that own them."""

from workshops.routing import websocket_urlpatterns as workshop_ws

websocket_urlpatterns = [*workshop_ws]

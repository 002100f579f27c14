from django.urls import path

from workshops.delphi.consumers import RoundConsumer

websocket_urlpatterns = [
    path("ws/rounds/<int:round_id>/", RoundConsumer.as_asgi()),
]

from django.urls import path

from workshops.consumers_capture import CaptureConsumer

websocket_urlpatterns = [
    path("ws/cycles/<slug:slug>/capture/", CaptureConsumer.as_asgi()),
]

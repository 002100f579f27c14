from django.urls import path

from workshops.capture.consumers import CaptureConsumer

websocket_urlpatterns = [
    path("ws/cycles/<slug:slug>/capture/", CaptureConsumer.as_asgi()),
]

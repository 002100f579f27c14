from django.urls import path

from workshops.fops.consumers import FOPConsumer

websocket_urlpatterns = [
    path("ws/fops/<int:fop_id>/", FOPConsumer.as_asgi()),
]

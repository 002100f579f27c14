"""Workshop URLs, one module per sub-domain so each can grow on its own."""

from django.urls import include, path

from workshops.join.urls import cycle_urlpatterns as join_urlpatterns

app_name = "workshops"
urlpatterns = [
    path("", include("workshops.capture.urls")),
    path("", include("workshops.delphi.urls")),
    path("", include("workshops.fops.urls")),
    path("", include("workshops.tags.urls")),
    path("", include(join_urlpatterns)),  # /join itself is top-level (config/urls.py)
]

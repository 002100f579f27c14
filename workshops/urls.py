"""Workshop URLs, one module per sub-domain so each can grow on its own."""

from django.urls import include, path

app_name = "workshops"
urlpatterns = [
    path("", include("workshops.urls_capture")),
    path("", include("workshops.urls_delphi")),
    path("", include("workshops.urls_fops")),
    path("", include("workshops.urls_tags")),
]

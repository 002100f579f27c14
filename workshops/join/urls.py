from django.urls import path

from workshops.join import views

# Top-level names (not "workshops:"): the short URL people type is /join.
urlpatterns = [
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join_code, name="join_code"),
]

# The convener's settings of each screen's code, under the cycle (included from workshops/urls.py).
cycle_urlpatterns = [
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/join-code/", views.round_settings, name="join_round"),
    path(
        "cycles/<slug:slug>/capture/workshops/<int:workshop_id>/join-code/",
        views.workshop_settings,
        name="join_workshop",
    ),
]

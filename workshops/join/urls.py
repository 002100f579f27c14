from django.urls import path

from workshops.join import views

# Top-level names (not "workshops:"): the short URL people type is /join.
urlpatterns = [
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join_code, name="join_code"),
]

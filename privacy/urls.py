from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.notice, name="notice"),
    path("privacy/my-data/", views.my_data, name="my_data"),
    path("cycles/<slug:slug>/privacy/", views.cycle_privacy, name="cycle"),
    path("cycles/<slug:slug>/privacy/erase/<int:user_id>/", views.person_erase, name="person_erase"),
]

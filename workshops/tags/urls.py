from django.urls import path

from workshops.tags import views

urlpatterns = [
    path("cycles/<slug:slug>/tags/", views.tags, name="tags"),
    path("cycles/<slug:slug>/tags/frequency/", views.tag_frequency, name="tag_frequency"),
    path("cycles/<slug:slug>/tags/merge/", views.tag_merge, name="tag_merge"),
    path("cycles/<slug:slug>/tags/capabilities/<int:pk>/", views.tag_capability, name="tag_capability"),
    path("cycles/<slug:slug>/tags/capabilities/<int:pk>/add/", views.tag_add, name="tag_add"),
    path("cycles/<slug:slug>/tags/capabilities/<int:pk>/remove/<int:tag_pk>/", views.tag_remove, name="tag_remove"),
]

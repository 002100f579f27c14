from django.urls import path

from workshops.capture import views

urlpatterns = [
    path("cycles/<slug:slug>/capture/", views.capture, name="capture"),
    path("cycles/<slug:slug>/capture/workshops/<int:workshop_id>/", views.capture, name="capture_workshop"),
    path("cycles/<slug:slug>/capture/check/", views.statement_check, name="capture_check"),
    path("cycles/<slug:slug>/capture/classification/", views.classification, name="capture_classification"),
    path("cycles/<slug:slug>/capture/bulk/", views.capabilities_bulk, name="capabilities_bulk"),
    path("cycles/<slug:slug>/capture/bulk/undo/", views.capabilities_bulk_undo, name="capabilities_bulk_undo"),
    path("cycles/<slug:slug>/capture/import/", views.capabilities_import, name="capabilities_import"),
    path("cycles/<slug:slug>/capture/export.csv", views.capabilities_export, name="capabilities_export"),
    path("cycles/<slug:slug>/capture/<int:pk>/", views.capability_detail, name="capability_detail"),
    path("cycles/<slug:slug>/capture/<int:pk>/edit/", views.capability_edit, name="capability_edit"),
    path("cycles/<slug:slug>/capture/<int:pk>/accept/", views.capability_accept, name="capability_accept"),
    path("cycles/<slug:slug>/capture/<int:pk>/reject/", views.capability_reject, name="capability_reject"),
    path("cycles/<slug:slug>/capture/<int:pk>/merge/", views.capability_merge, name="capability_merge"),
    path("taxonomy/", views.taxonomy, name="taxonomy"),
    path("taxonomy/import/", views.taxonomy_import, name="taxonomy_import"),
    path("taxonomy/export.csv", views.taxonomy_export, name="taxonomy_export"),
]

from django.urls import path

from workshops.fops import views

urlpatterns = [
    path("cycles/<slug:slug>/fops/", views.fops, name="fops"),
    path("cycles/<slug:slug>/fops/matrix/", views.fop_matrix, name="fop_matrix"),
    path("cycles/<slug:slug>/fops/propose/", views.fop_propose_view, name="fop_propose"),
    path("cycles/<slug:slug>/fops/compare/", views.fop_compare, name="fop_compare"),
    path("cycles/<slug:slug>/fops/new/", views.fop_new, name="fop_new"),
    path("cycles/<slug:slug>/fops/merge/", views.fop_merge, name="fop_merge"),
    path("cycles/<slug:slug>/fops/<int:pk>/", views.fop_detail, name="fop_detail"),
    path("cycles/<slug:slug>/fops/<int:pk>/history/", views.fop_history, name="fop_history"),
    path("cycles/<slug:slug>/fops/<int:pk>/edit/", views.fop_edit, name="fop_edit"),
    path("cycles/<slug:slug>/fops/<int:pk>/capabilities/", views.fop_capability_add, name="fop_capability_add"),
    path(
        "cycles/<slug:slug>/fops/<int:pk>/capabilities/<int:capability_pk>/",
        views.fop_capability_change,
        name="fop_capability_change",
    ),
    path("cycles/<slug:slug>/fops/<int:pk>/reviewers/", views.fop_reviewers, name="fop_reviewers"),
    path("cycles/<slug:slug>/fops/<int:pk>/ratify/", views.fop_ratify, name="fop_ratify"),
    path("cycles/<slug:slug>/fops/<int:pk>/return/", views.fop_return, name="fop_return"),
    path("cycles/<slug:slug>/fops/<int:pk>/reopen/", views.fop_reopen, name="fop_reopen"),
    path("cycles/<slug:slug>/fops/<int:pk>/split/", views.fop_split, name="fop_split"),
    path("cycles/<slug:slug>/fops/<int:pk>/delete/", views.fop_delete, name="fop_delete"),
    path("cycles/<slug:slug>/capabilities/<int:pk>/trace/", views.capability_trace, name="capability_trace"),
]

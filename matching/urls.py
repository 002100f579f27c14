from django.urls import path

from matching import views

app_name = "matching"
urlpatterns = [
    path("matching/frameworks/", views.frameworks, name="frameworks"),
    path("matching/frameworks/imports/<int:job_id>/", views.framework_import, name="framework_import"),
    path(
        "matching/frameworks/imports/<int:job_id>/retry/", views.framework_import_retry, name="framework_import_retry"
    ),
    path("cycles/<slug:slug>/matching/", views.runs, name="runs"),
    path("cycles/<slug:slug>/matching/runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("cycles/<slug:slug>/matching/runs/<int:run_id>/progress/", views.run_progress, name="run_progress"),
    path("cycles/<slug:slug>/matching/runs/<int:run_id>/threshold/", views.run_threshold, name="run_threshold"),
    path("cycles/<slug:slug>/matching/runs/<int:run_id>/rerun/", views.run_rerun, name="run_rerun"),
    path("cycles/<slug:slug>/matching/runs/<int:run_id>/review/", views.run_review, name="run_review"),
    path(
        "cycles/<slug:slug>/matching/runs/<int:run_id>/capabilities/<int:capability_id>/",
        views.run_capability,
        name="run_capability",
    ),
    path("cycles/<slug:slug>/matching/runs/<int:run_id>/fops/<int:fop_id>/", views.run_fop, name="run_fop"),
    path("cycles/<slug:slug>/library/search/", views.library_search, name="library_search"),
    path("cycles/<slug:slug>/library/duplicates/", views.library_duplicates, name="library_duplicates"),
    path("cycles/<slug:slug>/library/classify/", views.library_classify, name="library_classify"),
]

from django.urls import path

from findings.views import actions, exports, pages, report, search, share

app_name = "findings"
urlpatterns = [
    path("findings/search/", search.search, name="search"),
    path("cycles/<slug:slug>/findings/", pages.findings_index, name="home"),
    path("cycles/<slug:slug>/findings/exports/", exports.exports, name="exports"),
    path("cycles/<slug:slug>/findings/exports/start/", exports.export_start, name="export_start"),
    path("cycles/<slug:slug>/findings/exports/<int:job_id>/", exports.export_status, name="export_status"),
    path("cycles/<slug:slug>/findings/exports/<int:job_id>/file/", exports.export_file, name="export_file"),
    path("cycles/<slug:slug>/findings/exports/<int:job_id>/retry/", exports.export_retry, name="export_retry"),
    path("cycles/<slug:slug>/findings/share/", share.share_links, name="share_links"),
    path("cycles/<slug:slug>/findings/share/<int:pk>/revoke/", share.share_revoke, name="share_revoke"),
    path("cycles/<slug:slug>/findings/<slug:key>/", pages.findings_page, name="page"),
    path("cycles/<slug:slug>/findings/<slug:key>/download.<str:fmt>", pages.findings_download, name="download"),
    path("cycles/<slug:slug>/report/", report.report, name="report"),
    path("cycles/<slug:slug>/report/sections/<slug:key>/", report.report_section, name="report_section"),
    path("cycles/<slug:slug>/actions/", actions.action_list, name="actions"),
    path("cycles/<slug:slug>/actions/new/", actions.action_create, name="action_create"),
    path("cycles/<slug:slug>/actions/<int:pk>/edit/", actions.action_edit, name="action_edit"),
    path("cycles/<slug:slug>/actions/<int:pk>/delete/", actions.action_delete, name="action_delete"),
    # Read-only findings through an unguessable share link (no login).
    path("share/<str:token>/", pages.shared_index, name="shared_home"),
    path("share/<str:token>/report/", report.shared_report, name="shared_report"),
    path("share/<str:token>/actions/", actions.shared_actions, name="shared_actions"),
    path("share/<str:token>/<slug:key>/", pages.shared_page, name="shared_page"),
    path("share/<str:token>/<slug:key>/download.<str:fmt>", pages.shared_download, name="shared_download"),
]

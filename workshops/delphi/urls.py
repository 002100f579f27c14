from django.urls import path

from workshops.delphi import views

urlpatterns = [
    path("cycles/<slug:slug>/delphi/", views.delphi_home, name="delphi"),
    path("cycles/<slug:slug>/delphi/plan/", views.plan_edit, name="delphi_plan"),
    path("cycles/<slug:slug>/delphi/rounds/open/", views.round_open, name="delphi_round_open"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/", views.round_detail, name="delphi_round"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/vote/", views.round_vote, name="delphi_vote"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/close/", views.round_close, name="delphi_round_close"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/reveal/", views.round_reveal, name="delphi_round_reveal"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/facilitator/", views.facilitator, name="delphi_facilitator"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/present/", views.presenter, name="delphi_presenter"),
    path("cycles/<slug:slug>/delphi/rounds/<int:number>/discuss/", views.round_discuss, name="delphi_discuss"),
    path("cycles/<slug:slug>/delphi/results/", views.results, name="delphi_results"),
    path("cycles/<slug:slug>/delphi/results.csv", views.results_csv, name="delphi_results_csv"),
    path("cycles/<slug:slug>/delphi/report/", views.report, name="delphi_report"),
    path("cycles/<slug:slug>/delphi/convergence/", views.convergence, name="delphi_convergence"),
    path("cycles/<slug:slug>/delphi/appendix/", views.appendix, name="delphi_appendix"),
    path("cycles/<slug:slug>/delphi/appendix.md", views.appendix_markdown, name="delphi_appendix_md"),
    path("cycles/<slug:slug>/delphi/items/changes/", views.item_changes, name="delphi_item_changes"),
    path("cycles/<slug:slug>/delphi/reminders/", views.reminder_settings, name="delphi_reminders"),
    path("delphi/reminders/unsubscribe/<str:token>/", views.reminders_unsubscribe, name="delphi_reminders_unsubscribe"),
]

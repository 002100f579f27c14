from django.urls import path

from cycles.views import calendar, cycles, members, prepare, solutions, timeline

app_name = "cycles"
urlpatterns = [
    path("", cycles.dashboard, name="dashboard"),
    path("about/", cycles.about, name="about"),
    path("cycles/", cycles.cycle_list, name="cycle_list"),
    path("cycles/new/", cycles.cycle_create, name="cycle_create"),
    path("invitations/<str:token>/", members.invitation_accept, name="invitation_accept"),
    path("cycles/<slug:slug>/", cycles.cycle_detail, name="cycle_detail"),
    path("cycles/<slug:slug>/edit/", cycles.cycle_edit, name="cycle_edit"),
    path("cycles/<slug:slug>/phase/advance/", cycles.phase_advance, name="phase_advance"),
    path("cycles/<slug:slug>/phase/reopen/", cycles.phase_reopen, name="phase_reopen"),
    path("cycles/<slug:slug>/audit/", cycles.audit_log, name="audit"),
    # Timeline
    path("cycles/<slug:slug>/timeline/", timeline.timeline, name="timeline"),
    path("cycles/<slug:slug>/timeline/<int:phase>/", timeline.timeline_phase, name="timeline_phase"),
    # Members and invitations
    path("cycles/<slug:slug>/members/", members.members, name="members"),
    path("cycles/<slug:slug>/members/invite/", members.invite, name="invite"),
    path("cycles/<slug:slug>/members/import/", members.invite_bulk, name="invite_bulk"),
    path("cycles/<slug:slug>/members/<int:pk>/role/", members.membership_role, name="membership_role"),
    path("cycles/<slug:slug>/members/<int:pk>/remove/", members.membership_remove, name="membership_remove"),
    path("cycles/<slug:slug>/invitations/<int:pk>/revoke/", members.invitation_revoke, name="invitation_revoke"),
    path("cycles/<slug:slug>/invitations/<int:pk>/resend/", members.invitation_resend, name="invitation_resend"),
    # Consider and Identify
    path("cycles/<slug:slug>/solutions/", solutions.solutions, name="solutions"),
    path("cycles/<slug:slug>/solutions/rate/", solutions.solution_rate_list, name="solution_rate"),
    path("cycles/<slug:slug>/solutions/results/", solutions.solution_results, name="solution_results"),
    path(
        "cycles/<slug:slug>/solutions/<int:pk>/prioritise/", solutions.solution_prioritise, name="solution_prioritise"
    ),
    # Prepare
    path("cycles/<slug:slug>/prepare/partners/", prepare.partners, name="partners"),
    path("cycles/<slug:slug>/prepare/partners/<int:pk>/edit/", prepare.partner_edit, name="partner_edit"),
    path("cycles/<slug:slug>/prepare/partners/<int:pk>/delete/", prepare.partner_delete, name="partner_delete"),
    path("cycles/<slug:slug>/prepare/role-levels/", prepare.role_levels, name="role_levels"),
    path("cycles/<slug:slug>/prepare/role-levels/<int:pk>/edit/", prepare.role_level_edit, name="role_level_edit"),
    path(
        "cycles/<slug:slug>/prepare/role-levels/<int:pk>/delete/", prepare.role_level_delete, name="role_level_delete"
    ),
    path("cycles/<slug:slug>/prepare/workshops/", prepare.workshops, name="workshops"),
    path("cycles/<slug:slug>/prepare/workshops/<int:pk>/edit/", prepare.workshop_edit, name="workshop_edit"),
    path("cycles/<slug:slug>/prepare/workshops/<int:pk>/delete/", prepare.workshop_delete, name="workshop_delete"),
    # Calendars
    path("cycles/<slug:slug>/calendar.ics", calendar.cycle_calendar, name="cycle_calendar"),
    path(
        "cycles/<slug:slug>/prepare/workshops/<int:pk>/calendar.ics",
        calendar.workshop_calendar,
        name="workshop_calendar",
    ),
]

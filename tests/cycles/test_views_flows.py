"""What each screen does with good and bad input: messages, redirects, inline errors, nothing half-done."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import User
from cycles.models import AuditEvent, Cycle, Invitation, Membership, Phase, PhasePlan, Role, RoleLevel, Solution
from tests.cycles.factories import InvitationFactory, SolutionFactory
from tests.factories import WorkshopFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_a_convener_creates_a_cycle_and_lands_on_its_page(personas):
    client = personas.client_for(personas.convener)
    response = client.post(
        reverse("cycles:cycle_create"), {"title": "Digital twins", "challenge": "Adopt twins by 2030."}, follow=True
    )
    cycle = Cycle.objects.get(title="Digital twins")
    assert response.redirect_chain[-1][0] == reverse("cycles:cycle_detail", args=[cycle.slug])
    assert any("Created the cycle" in m for m in messages_of(response))
    assert PhasePlan.objects.filter(cycle=cycle).count() == 6


def test_a_cycle_without_a_challenge_is_refused_with_the_field_named(personas):
    response = personas.client_for(personas.convener).post(reverse("cycles:cycle_create"), {"title": "No challenge"})
    assert response.status_code == 400
    assert response.context["form"].errors["challenge"]
    assert not Cycle.objects.filter(title="No challenge").exists()


def test_advancing_without_prerequisites_shows_what_is_missing(personas):
    client = personas.client_for(personas.convener)
    response = client.post(reverse("cycles:phase_advance", args=["cycle-a"]), follow=True)
    assert any("Identify cannot start yet" in m and "candidate solution" in m for m in messages_of(response))
    assert Cycle.objects.get(slug="cycle-a").phase == Phase.CONSIDER


def test_advancing_with_htmx_returns_the_phase_panel_and_the_message(personas):
    SolutionFactory(cycle=personas.cycle)
    response = personas.client_for(personas.convener).post(
        reverse("cycles:phase_advance", args=["cycle-a"]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="phase-panel"' in html and 'hx-swap-oob="true"' in html and "now in Identify" in html
    assert Cycle.objects.get(slug="cycle-a").phase == Phase.IDENTIFY


def test_the_cycle_page_lists_what_the_next_phase_needs(personas):
    html = personas.client_for(personas.convener).get(reverse("cycles:cycle_detail", args=["cycle-a"])).content.decode()
    assert "Before Identify can start" in html


def test_reopening_from_the_cycle_page(personas):
    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.PREPARE)
    response = personas.client_for(personas.convener).post(
        reverse("cycles:phase_reopen", args=["cycle-a"]), {"phase": "2", "reason": "More ratings"}, follow=True
    )
    assert Cycle.objects.get(slug="cycle-a").phase == Phase.IDENTIFY
    assert any("Reopened Identify" in m for m in messages_of(response))


def test_inline_timeline_edit_saves_and_returns_the_row_and_the_chart(personas):
    PhasePlan.objects.create(cycle=personas.cycle, phase=3)
    url = reverse("cycles:timeline_phase", args=["cycle-a", 3])
    data = {
        "p3-planned_start": "2026-04-01",
        "p3-planned_end": "2026-05-15",
        "p3-actual_start": "",
        "p3-actual_end": "",
    }
    response = personas.client_for(personas.convener).post(url, data, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="phase-row-3"' in html and "15 May 2026" in html and 'id="timeline"' in html
    assert PhasePlan.objects.get(cycle=personas.cycle, phase=3).planned_end.isoformat() == "2026-05-15"


def test_inline_timeline_edit_with_an_end_before_the_start_shows_the_error_in_the_row(personas):
    PhasePlan.objects.create(cycle=personas.cycle, phase=3)
    url = reverse("cycles:timeline_phase", args=["cycle-a", 3])
    data = {
        "p3-planned_start": "2026-05-01",
        "p3-planned_end": "2026-04-01",
        "p3-actual_start": "",
        "p3-actual_end": "",
    }
    response = personas.client_for(personas.convener).post(url, data, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx
    assert "The planned end is before its start." in html and "<form" in html
    assert PhasePlan.objects.get(cycle=personas.cycle, phase=3).planned_start is None
    plain = personas.client_for(personas.convener).post(url, data)
    assert plain.status_code == 400


def test_a_phase_without_its_plan_row_is_shown_and_edited_and_only_the_post_creates_it(personas):
    PhasePlan.objects.filter(cycle=personas.cycle, phase=3).delete()
    convener = personas.client_for(personas.convener)
    url = reverse("cycles:timeline_phase", args=["cycle-a", 3])
    assert convener.get(url + "?edit=1", headers={"HX-Request": "true"}).status_code == 200
    assert convener.get(reverse("cycles:timeline", args=["cycle-a"])).status_code == 200
    assert not PhasePlan.objects.filter(cycle=personas.cycle, phase=3).exists()  # a GET writes nothing
    bad = {"p3-planned_start": "2026-05-01", "p3-planned_end": "2026-04-01", "p3-actual_start": "", "p3-actual_end": ""}
    assert (
        "The planned end is before its start."
        in convener.post(url, bad, headers={"HX-Request": "true"}).content.decode()
    )
    assert not PhasePlan.objects.filter(cycle=personas.cycle, phase=3).exists()
    good = {**bad, "p3-planned_end": "2026-05-15"}
    convener.post(url, good, headers={"HX-Request": "true"})
    assert PhasePlan.objects.get(cycle=personas.cycle, phase=3).planned_end.isoformat() == "2026-05-15"


def test_the_timeline_shows_overdue_phases_workshops_and_today(personas):
    PhasePlan.objects.create(
        cycle=personas.cycle,
        phase=1,
        planned_start=timezone.localdate() - timedelta(days=60),
        planned_end=timezone.localdate() - timedelta(days=5),
    )
    WorkshopFactory(cycle=personas.cycle, title="Capture day")
    html = personas.client_for(personas.technologist).get(reverse("cycles:timeline", args=["cycle-a"])).content.decode()
    assert "Overdue" in html and "timeline-today" in html and "Capture day" in html and "timeline-marker" in html


def test_inviting_through_the_form_and_a_duplicate_is_refused_on_the_email_field(personas):
    client = personas.client_for(personas.convener)
    url = reverse("cycles:invite", args=["cycle-a"])
    response = client.post(url, {"email": "new@example.test", "role": "employer"}, follow=True)
    assert any("Invited new@example.test" in m for m in messages_of(response))
    again = client.post(url, {"email": "new@example.test", "role": "educator"})
    assert again.status_code == 400
    assert "already has a pending invitation" in again.context["invite_form"].errors["email"][0]
    assert Invitation.objects.filter(email="new@example.test").count() == 1


def test_the_members_page_lists_members_and_pending_invitations_with_their_links(personas):
    invitation = InvitationFactory(cycle=personas.cycle, email="pending@example.test")
    html = personas.client_for(personas.convener).get(reverse("cycles:members", args=["cycle-a"])).content.decode()
    assert "pending@example.test" in html and invitation.token in html and personas.employer.email in html


def test_changing_a_role_and_removing_a_member_from_the_members_page(personas):
    client = personas.client_for(personas.convener)
    membership = Membership.objects.get(cycle=personas.cycle, user=personas.employer)
    response = client.post(
        reverse("cycles:membership_role", args=["cycle-a", membership.pk]),
        {"role": "educator"},
        headers={"HX-Request": "true"},
    )
    assert 'id="member-list"' in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.EDUCATOR
    client.post(reverse("cycles:membership_remove", args=["cycle-a", membership.pk]))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.REMOVED
    assert (
        personas.client_for(personas.employer).get(reverse("cycles:cycle_detail", args=["cycle-a"])).status_code == 404
    )


def test_bulk_invite_with_a_bad_row_lists_the_problems_and_creates_nothing(personas):
    csv = b"name,email,organisation,group,role\nA,a@example.test,,,observer\nB,b@,,,observer\n"
    response = personas.client_for(personas.convener).post(
        reverse("cycles:invite_bulk", args=["cycle-a"]), {"file": SimpleUploadedFile("p.csv", csv)}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported" in html and "<td>3</td><td>email</td>" in html
    assert not Invitation.objects.exists()


def test_bulk_invite_with_a_good_file(personas):
    csv = b"name,email,organisation,group,role\nA,a@example.test,,,observer\n"
    response = personas.client_for(personas.convener).post(
        reverse("cycles:invite_bulk", args=["cycle-a"]), {"file": SimpleUploadedFile("p.csv", csv)}
    )
    assert response.status_code == 302
    assert Invitation.objects.filter(email="a@example.test").exists()


def test_accepting_while_logged_out_creates_the_account_and_logs_in(personas, client):
    invitation = InvitationFactory(cycle=personas.cycle, email="newbie@example.test", role=Role.EDUCATOR)
    url = reverse("cycles:invitation_accept", args=[invitation.token])
    page = client.get(url)
    assert page.status_code == 200 and "Create my account" in page.content.decode()
    response = client.post(
        url,
        {
            "action": "signup",
            "signup-display_name": "Newbie",
            "signup-password1": "a-long-passphrase-9",
            "signup-password2": "a-long-passphrase-9",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("cycles:cycle_detail", args=["cycle-a"])
    assert response.context["user"].email == "newbie@example.test"
    assert Membership.objects.get(user__email="newbie@example.test").role == Role.EDUCATOR


def test_a_weak_or_mismatched_password_is_refused_and_creates_nothing(personas, client):
    invitation = InvitationFactory(cycle=personas.cycle, email="weak@example.test")
    url = reverse("cycles:invitation_accept", args=[invitation.token])
    response = client.post(
        url, {"action": "signup", "signup-display_name": "W", "signup-password1": "123", "signup-password2": "123"}
    )
    assert response.status_code == 400 and response.context["signup"].errors["password1"]
    response = client.post(
        url,
        {
            "action": "signup",
            "signup-display_name": "W",
            "signup-password1": "a-long-passphrase-9",
            "signup-password2": "other-long-passphrase",
        },
    )
    assert response.context["signup"].errors["password2"]
    assert not User.objects.filter(email="weak@example.test").exists()


def test_an_existing_user_logs_in_on_the_invitation_page_to_accept(personas, client, password):
    invitation = InvitationFactory(cycle=personas.other_cycle, email=personas.employer.email, role=Role.EMPLOYER)
    url = reverse("cycles:invitation_accept", args=[invitation.token])
    assert "Create my account" not in client.get(url).content.decode()
    response = client.post(
        url, {"action": "login", "login-username": personas.employer.email, "login-password": password}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(cycle=personas.other_cycle, user=personas.employer).exists()


def test_a_logged_in_user_accepts_with_one_click(personas):
    invitation = InvitationFactory(cycle=personas.other_cycle, email=personas.employer.email)
    client = personas.client_for(personas.employer)
    assert client.post(reverse("cycles:invitation_accept", args=[invitation.token])).status_code == 302
    assert Membership.objects.filter(cycle=personas.other_cycle, user=personas.employer).exists()


def test_an_expired_invitation_link_says_so_and_creates_nothing(personas, client):
    invitation = InvitationFactory(
        cycle=personas.cycle, email="late@example.test", expires_at=timezone.now() - timedelta(hours=1)
    )
    url = reverse("cycles:invitation_accept", args=[invitation.token])
    response = client.post(
        url,
        {
            "action": "signup",
            "signup-display_name": "L",
            "signup-password1": "a-long-passphrase-9",
            "signup-password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not User.objects.filter(email="late@example.test").exists()


def test_an_unknown_invitation_token_is_not_found(client):
    assert client.get(reverse("cycles:invitation_accept", args=["nope"])).status_code == 404


def test_the_invitation_page_is_rate_limited(personas, client, rate_limits_on):
    invitation = InvitationFactory(cycle=personas.cycle, email="rl@example.test")
    url = reverse("cycles:invitation_accept", args=[invitation.token])
    codes = [
        client.post(url, {"action": "login", "login-username": "rl@example.test", "login-password": "x"}).status_code
        for _ in range(12)
    ]
    assert codes[-1] == 429


def test_proposing_rating_and_prioritising_through_the_pages(personas):
    technologist = personas.client_for(personas.technologist)
    response = technologist.post(
        reverse("cycles:solutions", args=["cycle-a"]),
        {"title": "Closed automated systems"},
        headers={"HX-Request": "true"},
    )
    assert "Closed automated systems" in response.content.decode()
    solution = Solution.objects.get()
    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.IDENTIFY)
    rate_url = reverse("cycles:solution_rate", args=["cycle-a"])
    bad = technologist.post(
        rate_url, {f"s{solution.pk}-impact": "9", f"s{solution.pk}-feasibility": "2"}, headers={"HX-Request": "true"}
    )
    assert "Select a valid choice" in bad.content.decode() and not solution.ratings.exists()
    good = technologist.post(
        rate_url, {f"s{solution.pk}-impact": "4", f"s{solution.pk}-feasibility": "2"}, headers={"HX-Request": "true"}
    )
    assert f'id="rate-{solution.pk}"' in good.content.decode() and solution.ratings.get().impact == 4
    assert "Saved your ratings of 1 solution." in good.content.decode()
    results = (
        personas.client_for(personas.convener)
        .get(reverse("cycles:solution_results", args=["cycle-a"]))
        .content.decode()
    )
    assert "results-chart" in results and "chart.umd.min.js" in results and "Prioritise" in results
    personas.client_for(personas.convener).post(
        reverse("cycles:solution_prioritise", args=["cycle-a", solution.pk]), {"prioritised": "1"}
    )
    solution.refresh_from_db()
    assert solution.prioritised


def test_a_role_level_with_min_above_max_is_refused_on_the_page(personas):
    response = personas.client_for(personas.convener).post(
        reverse("cycles:role_levels", args=["cycle-a"]),
        {"name": "Leads", "academic_level_min": "6", "academic_level_max": "4"},
    )
    assert response.status_code == 400
    assert "above the highest" in response.content.decode()
    assert not RoleLevel.objects.exists()


def test_prepare_lists_add_items_with_htmx(personas):
    client = personas.client_for(personas.convener)
    response = client.post(
        reverse("cycles:partners", args=["cycle-a"]),
        {"name": "NHS workforce", "description": ""},
        headers={"HX-Request": "true"},
    )
    assert "NHS workforce" in response.content.decode() and 'id="section"' in response.content.decode()
    response = client.post(
        reverse("cycles:workshops", args=["cycle-a"]),
        {
            "kind": "technologist",
            "title": "Capture 1",
            "starts_at": "2026-03-02T10:00",
            "ends_at": "2026-03-02T13:00",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 302
    workshop = personas.cycle.workshops.get()
    assert workshop.starts_at.isoformat() == "2026-03-02T10:00:00+00:00"


def test_calendar_files_hold_the_workshops(personas):
    WorkshopFactory(cycle=personas.cycle, title="Capture day", place="Stevenage")
    WorkshopFactory(cycle=personas.cycle, title="Ratification")
    response = personas.client_for(personas.technologist).get(reverse("cycles:cycle_calendar", args=["cycle-a"]))
    assert response["Content-Type"].startswith("text/calendar")
    events = [c for c in Calendar.from_ical(response.content).walk("VEVENT")]
    assert sorted(str(e["summary"]).split(" · ")[0] for e in events) == ["Capture day", "Ratification"]
    assert any(str(e.get("location")) == "Stevenage" for e in events)


def test_every_change_through_the_pages_is_in_the_audit_log(personas):
    client = personas.client_for(personas.convener)
    client.post(reverse("cycles:invite", args=["cycle-a"]), {"email": "x@example.test", "role": "observer"})
    html = client.get(reverse("cycles:audit", args=["cycle-a"])).content.decode()
    assert "Invited x@example.test as Observer" in html
    assert AuditEvent.objects.get().actor == personas.convener


def test_expired_invitations_are_listed_and_can_be_re_sent(personas):
    old = InvitationFactory(
        cycle=personas.cycle, email="expired@example.test", expires_at=timezone.now() - timedelta(days=2)
    )
    client = personas.client_for(personas.convener)
    html = client.get(reverse("cycles:members", args=["cycle-a"])).content.decode()
    assert "Invitation expired" in html and old.token not in html
    response = client.post(reverse("cycles:invitation_resend", args=["cycle-a", old.pk]), follow=True)
    assert any("Sent a new link to expired@example.test" in m for m in messages_of(response))
    assert Invitation.objects.get(email="expired@example.test", revoked_at__isnull=True).status == "pending"


@pytest.mark.parametrize("how", ["one", "resend", "csv"])
def test_invitation_emails_link_to_the_address_the_convener_used(personas, how, django_capture_on_commit_callbacks):
    from django.core import mail
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = personas.client_for(personas.convener)
    host = {"HTTP_HOST": "localhost:8765"}  # the server reached on another port than the default
    with django_capture_on_commit_callbacks(execute=True):
        if how == "csv":
            upload = SimpleUploadedFile(
                "people.csv", b"name,email,organisation,group,role\nNew Person,new@example.test,,,employer\n"
            )
            client.post(reverse("cycles:invite_bulk", args=["cycle-a"]), {"file": upload}, **host)
        else:
            client.post(
                reverse("cycles:invite", args=["cycle-a"]), {"email": "new@example.test", "role": "employer"}, **host
            )
        if how == "resend":
            invitation = Invitation.objects.get(email="new@example.test", revoked_at__isnull=True)
            client.post(reverse("cycles:invitation_resend", args=["cycle-a", invitation.pk]), **host)
    invitation = Invitation.objects.get(email="new@example.test", revoked_at__isnull=True)
    assert f"http://localhost:8765/invitations/{invitation.token}/" in mail.outbox[-1].body


def test_a_configured_site_url_wins_over_the_address_the_request_used(
    personas, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    settings.SITE_URL = "https://foresight.example.org/"
    with django_capture_on_commit_callbacks(execute=True):
        personas.client_for(personas.convener).post(
            reverse("cycles:invite", args=["cycle-a"]), {"email": "new@example.test", "role": "employer"},
            HTTP_HOST="localhost:8765",
        )  # fmt: skip
    invitation = Invitation.objects.get(email="new@example.test")
    assert f"https://foresight.example.org/invitations/{invitation.token}/" in mail.outbox[-1].body

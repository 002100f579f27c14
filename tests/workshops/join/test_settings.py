"""The convener's settings of a code: open join with its role and group, expiry, most sign-ups,
withdraw and a new code; every change audited. Only the convener reaches them; a GET writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cycles.models import AuditEvent, Workshop
from tests.factories import WorkshopFactory
from tests.workshops.join.conftest import join_url, round_url
from tests.workshops.join.test_join import markup, text
from workshops.join.codes import shown
from workshops.models import JoinCode

pytestmark = pytest.mark.django_db


def settings_url(number: int = 1) -> str:
    return reverse("workshops:join_round", args=["cycle-a", number])


def workshop_settings_url(workshop) -> str:
    return reverse("workshops:join_workshop", args=["cycle-a", workshop.pk])


def save(client, **fields):
    data = {"action": "save", "role": "", "group": "", "expires_at": "", "max_uses": "", **fields}
    return client.post(settings_url(), data)


def test_the_convener_sees_the_code_its_qr_and_its_settings(personas, code):
    response = personas.client_for(personas.convener).get(settings_url())
    assert response.status_code == 200
    html = markup(response)
    assert shown(code.code) in html and "<svg" in html
    assert "Open join is off" in text(response)
    assert 'name="open_join"' in html and 'name="max_uses"' in html and 'name="expires_at"' in html


@pytest.mark.parametrize("role", ["technologist", "employer", "educator", "observer", "outsider"])
def test_nobody_else_reaches_the_settings(personas, code, role):
    client = personas.client_for(getattr(personas, role))
    expected = 404 if role == "outsider" else 403
    assert client.get(settings_url()).status_code == expected
    assert save(client, open_join="on", role="technologist", group="skills").status_code == expected
    code.refresh_from_db()
    assert not code.open_join


def test_the_round_page_and_the_facilitator_page_link_to_the_settings(personas, code):
    client = personas.client_for(personas.convener)
    assert settings_url() in markup(client.get(round_url()))
    assert settings_url() in markup(client.get(reverse("workshops:delphi_facilitator", args=["cycle-a", 1])))
    assert settings_url() not in markup(personas.client_for(personas.technologist).get(round_url()))


def test_turning_open_join_on_sets_the_role_and_group_and_is_audited(personas, code):
    client = personas.client_for(personas.convener)
    response = save(client, open_join="on", role="employer", group="industry", max_uses="40")
    assert response.status_code == 302
    code.refresh_from_db()
    assert (code.open_join, code.role, code.group, code.max_uses) == (True, "employer", "industry", 40)
    event = AuditEvent.objects.get(verb="join_code.changed")
    assert event.actor == personas.convener
    assert "open join as Employer in the Industry group, at most 40 sign-ups" in event.summary
    assert "Open join is on: 0 sign-ups of 40 allowed." in text(client.get(settings_url()))


def test_open_join_needs_a_voting_role_never_the_conveners(personas, code):
    client = personas.client_for(personas.convener)
    response = save(client, open_join="on", role="convener", group="skills")
    assert response.status_code == 400
    code.refresh_from_db()
    assert not code.open_join and code.role == ""
    missing = save(client, open_join="on")
    assert missing.status_code == 400
    assert "Choose the role of the people who sign up with the code." in markup(missing)


def test_the_expiry_must_be_in_the_future(personas, code):
    client = personas.client_for(personas.convener)
    past = timezone.localtime() - timezone.timedelta(hours=1)
    response = save(client, expires_at=past.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 400 and "The expiry must be in the future." in markup(response)
    later = timezone.localtime() + timezone.timedelta(hours=2)
    assert save(client, expires_at=later.strftime("%Y-%m-%dT%H:%M")).status_code == 302
    code.refresh_from_db()
    assert code.expires_at is not None and code.expires_at > timezone.now()


def test_saving_nothing_new_records_nothing(personas, code):
    save(personas.client_for(personas.convener))
    assert not AuditEvent.objects.filter(verb="join_code.changed").exists()


def test_withdrawing_stops_the_code_for_everyone(personas, code):
    client = personas.client_for(personas.convener)
    assert client.post(settings_url(), {"action": "revoke"}).status_code == 302
    code.refresh_from_db()
    assert code.revoked_at is not None
    assert personas.client_for(personas.technologist).get(join_url(code)).status_code == 410
    assert AuditEvent.objects.filter(verb="join_code.revoked", actor=personas.convener).exists()


def test_a_new_code_replaces_the_old_one(personas, code):
    old = code.code
    code.open_join, code.role, code.group = True, "technologist", "skills"
    code.uses, code.revoked_at = 5, timezone.now()
    code.save()
    client = personas.client_for(personas.convener)
    response = client.post(settings_url(), {"action": "renew"}, follow=True)
    code.refresh_from_db()
    assert code.code != old and code.revoked_at is None and code.uses == 0
    assert code.open_join and code.role == "technologist"  # the settings stay
    assert f"The new code is {shown(code.code)}; the old one no longer works." in markup(response)
    member = personas.client_for(personas.technologist)
    assert member.get(join_url(old)).status_code == 404
    assert member.get(join_url(code))["Location"] == round_url()
    event = AuditEvent.objects.get(verb="join_code.renewed")
    assert event.detail == {"target": "Delphi round 1", "old": old, "new": code.code}


def test_a_round_opened_after_an_open_join_round_keeps_its_settings(personas, open_code, delphi):
    from workshops.delphi.services import round_close, round_open

    round_close(round_id=delphi.round.pk, actor=personas.convener)
    rnd2 = round_open(cycle=personas.cycle, actor=personas.convener)
    second = JoinCode.objects.get(round=rnd2)
    assert second.code != open_code.code
    assert (second.open_join, second.role, second.group, second.uses) == (True, "technologist", "skills", 0)


# --- A capture workshop's code -------------------------------------------------------------------


def test_a_capture_workshop_gets_its_code_when_the_convener_shows_it(personas, workshop):
    client = personas.client_for(personas.convener)
    page = client.get(reverse("workshops:capture_workshop", args=["cycle-a", workshop.pk]))
    assert "Show join code" in text(page)
    assert not JoinCode.objects.filter(workshop=workshop).exists()  # a GET writes nothing
    assert client.get(workshop_settings_url(workshop)).status_code == 200
    assert not JoinCode.objects.filter(workshop=workshop).exists()
    capture = reverse("workshops:capture_workshop", args=["cycle-a", workshop.pk])
    response = client.post(workshop_settings_url(workshop), {"action": "create", "next": capture})
    assert response["Location"] == capture
    code = JoinCode.objects.get(workshop=workshop)
    page = client.get(capture)
    assert shown(code.code) in markup(page) and "<svg" in markup(page)
    assert workshop_settings_url(workshop) in markup(page)
    assert AuditEvent.objects.filter(verb="join_code.created", actor=personas.convener).exists()


def test_panellists_do_not_see_the_code_on_the_capture_page(personas, workshop):
    from workshops.join.services import join_code_for_workshop

    code = join_code_for_workshop(workshop=workshop, actor=personas.convener)
    page = personas.client_for(personas.technologist).get(
        reverse("workshops:capture_workshop", args=["cycle-a", workshop.pk])
    )
    assert page.status_code == 200 and code.code not in markup(page)


def test_only_a_capture_workshop_has_a_code(personas):
    employer_workshop = WorkshopFactory(cycle=personas.cycle, kind=Workshop.Kind.EMPLOYER)
    response = personas.client_for(personas.convener).post(
        workshop_settings_url(employer_workshop), {"action": "create"}
    )
    assert response.status_code == 404
    assert not JoinCode.objects.exists() or not JoinCode.objects.filter(workshop=employer_workshop).exists()


def test_the_workshop_code_offers_the_workshops_own_role(personas, workshop):
    client = personas.client_for(personas.convener)
    client.post(workshop_settings_url(workshop), {"action": "create"})
    html = markup(client.get(workshop_settings_url(workshop)))
    assert '<option value="technologist" selected>' in html and 'value="employer"' not in html

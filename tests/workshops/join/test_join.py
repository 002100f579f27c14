"""/join and /join/<code>/: the code lands members on the live round at once; everyone else is told
what to do (log in, accept their invitation) or why not (no such code, withdrawn, expired, closed)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cycles.models import Invitation, Membership, Role
from tests.factories import PASSWORD, UserFactory
from tests.workshops.join.conftest import join_url, round_url
from workshops.delphi.services import round_close
from workshops.join.codes import shown
from workshops.join.services import join_code_for_workshop

pytestmark = pytest.mark.django_db


def markup(response) -> str:
    return unescape(response.content.decode())


def text(response) -> str:
    """What a reader sees: the page without its tags, spaces collapsed."""
    inline = re.sub(r"</?(?:a|b|code|em|i|s|small|span|strong)\b[^>]*>", "", markup(response))
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


def test_the_join_page_asks_for_the_code_in_one_big_field(client):
    response = client.get(reverse("join"))
    assert response.status_code == 200
    html = markup(response)
    assert 'name="code"' in html and 'autocapitalize="characters"' in html and 'autocomplete="off"' in html
    assert "Code on the screen" in html


def test_a_member_typing_the_code_lands_on_the_live_round(personas, code):
    client = personas.client_for(personas.technologist)
    response = client.get(reverse("join"), {"code": shown(code.code).lower()}, follow=True)
    assert response.redirect_chain[-1][0] == round_url()
    assert "Delphi round 1" in text(response)


def test_the_qr_target_takes_the_code_as_typed_in_any_case_or_with_a_dash(personas, code):
    client = personas.client_for(personas.employer)
    typed = f"{code.code[:4].lower()}-{code.code[4:]}"
    response = client.get(join_url(typed), follow=True)
    assert response.redirect_chain[-1][0] == round_url()


def test_the_convener_and_observers_land_on_the_round_page_too(personas, code):
    for person in (personas.convener, personas.observer):
        response = personas.client_for(person).get(join_url(code))
        assert response.status_code == 302 and response["Location"] == round_url()


def test_a_wrong_code_says_what_is_wrong(client, db):
    response = client.get(reverse("join"), {"code": "k7qm 2xpa"})
    assert response.status_code == 404
    assert "No live session has the code K7QM 2XPA: check the code on the screen." in text(response)
    assert 'value="k7qm 2xpa"' in markup(response)  # kept, to correct


def test_a_code_of_the_wrong_length_says_what_a_code_looks_like(client, db):
    response = client.get(reverse("join"), {"code": "K7Q"})
    assert response.status_code == 404
    assert "A join code has 8 letters and digits" in text(response)


def test_someone_not_logged_in_is_asked_to_log_in_and_then_lands_on_the_round(personas, code):
    client = Client()
    landing = client.get(join_url(code))
    assert landing.status_code == 200
    assert "Log in to join" in text(landing) and "Cycle A" in text(landing) and "Delphi round 1" in text(landing)
    assert f'name="next" value="{join_url(code)}"' in markup(landing)
    response = client.post(
        reverse("accounts:login"),
        {"username": personas.technologist.email, "password": PASSWORD, "next": join_url(code)},
        follow=True,
    )
    assert [url for url, _ in response.redirect_chain] == [join_url(code), round_url()]


def test_a_logged_in_outsider_is_refused_and_told_to_ask_for_an_invitation(personas, code):
    response = personas.client_for(personas.outsider).get(join_url(code))
    assert response.status_code == 403
    assert "You are not a member of “Cycle A”: ask the convener to invite you." in text(response)
    assert not Membership.objects.filter(cycle=personas.cycle, user=personas.outsider).exists()


def test_a_removed_member_is_refused(personas, code):
    Membership.objects.filter(user=personas.educator, cycle=personas.cycle).update(status=Membership.Status.REMOVED)
    response = personas.client_for(personas.educator).get(join_url(code))
    assert response.status_code == 403
    assert "You were removed from “Cycle A”" in text(response)


def test_an_invited_person_accepts_their_invitation_and_lands_on_the_round(personas, code):
    invited = UserFactory(email="invited@else.test")
    invitation = Invitation.objects.create(
        cycle=personas.cycle,
        email=invited.email,
        role=Role.EMPLOYER,
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    client = personas.client_for(invited)
    landing = client.get(join_url(code))
    assert "You have an invitation to take part as employer." in text(landing)
    accept = reverse("cycles:invitation_accept", args=[invitation.token]) + f"?next={quote(join_url(code), safe='')}"
    assert f'action="{accept}"' in markup(landing)
    response = client.post(accept, follow=True)
    assert [url for url, _ in response.redirect_chain] == [join_url(code), round_url()]
    assert Membership.objects.get(cycle=personas.cycle, user=invited).role == Role.EMPLOYER


def test_the_invitation_page_never_follows_a_next_to_another_site(personas):
    invited = UserFactory(email="invited@else.test")
    invitation = Invitation.objects.create(
        cycle=personas.cycle,
        email=invited.email,
        role=Role.EMPLOYER,
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    client = personas.client_for(invited)
    response = client.post(reverse("cycles:invitation_accept", args=[invitation.token]) + "?next=https://evil.test/")
    assert response["Location"] == reverse("cycles:cycle_detail", args=["cycle-a"])


def test_a_withdrawn_code_says_so(personas, code):
    code.revoked_at = timezone.now()
    code.save()
    response = personas.client_for(personas.technologist).get(join_url(code))
    assert response.status_code == 410
    assert f"The code {shown(code.code)} was withdrawn by the convener" in text(response)


def test_an_expired_code_says_when_it_expired(personas, code):
    code.expires_at = timezone.now() - timezone.timedelta(minutes=5)
    code.save()
    response = personas.client_for(personas.technologist).get(join_url(code))
    assert response.status_code == 410
    assert f"The code {shown(code.code)} expired on" in text(response)


def test_a_closed_round_says_so_and_shows_members_its_results(personas, code, delphi):
    round_close(round_id=delphi.round.pk, actor=personas.convener)
    member = personas.client_for(personas.technologist).get(join_url(code))
    assert member.status_code == 410
    html = markup(member)
    assert "Round 1 of “Cycle A” is closed: answers can no longer change." in html
    assert reverse("workshops:delphi_results", args=["cycle-a"]) in html
    outsider = markup(personas.client_for(personas.outsider).get(join_url(code)))
    assert "is closed" in outsider and reverse("workshops:delphi_results", args=["cycle-a"]) not in outsider


def test_a_round_past_its_deadline_reads_closed_at_once(personas, code, delphi):
    delphi.round.deadline = timezone.now() - timezone.timedelta(seconds=1)
    delphi.round.save()
    response = personas.client_for(personas.technologist).get(join_url(code))
    assert response.status_code == 410 and "is closed" in text(response)


def test_a_capture_workshop_code_lands_on_the_workshop_page(personas, workshop):
    code = join_code_for_workshop(workshop=workshop, actor=personas.convener)
    response = personas.client_for(personas.technologist).get(join_url(code))
    assert response["Location"] == reverse("workshops:capture_workshop", args=["cycle-a", workshop.pk])


def test_looking_a_code_up_writes_nothing(personas, code):
    client = personas.client_for(personas.outsider)
    before = (Membership.objects.count(), Invitation.objects.count())
    client.get(join_url(code))
    code.refresh_from_db()
    assert (Membership.objects.count(), Invitation.objects.count()) == before and code.uses == 0


def test_an_invited_person_without_an_account_gets_a_link_that_brings_them_back(personas, code, mailoutbox):
    Invitation.objects.create(
        cycle=personas.cycle,
        email="new@else.test",
        role=Role.EMPLOYER,
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    client = Client()
    response = client.post(join_url(code), {"action": "invitation", "invited-email": "New@Else.test"}, follow=True)
    assert "If New@Else.test has an invitation to “Cycle A”, its link is on its way" in text(response)
    (mail,) = mailoutbox
    assert mail.to == ["new@else.test"]
    link = re.search(r"http://testserver(/invitations/\S+)", mail.body).group(1)
    assert link.endswith("?next=" + quote(join_url(code), safe=""))
    created = client.post(
        link,
        {
            "action": "signup",
            "signup-display_name": "New Person",
            "signup-password1": "a-long-pass-phrase-9",
            "signup-password2": "a-long-pass-phrase-9",
        },
        follow=True,
    )
    assert [url for url, _ in created.redirect_chain] == [join_url(code), round_url()]


def test_asking_for_a_link_without_an_invitation_sends_nothing_and_says_the_same(personas, code, mailoutbox):
    response = Client().post(join_url(code), {"action": "invitation", "invited-email": "nobody@else.test"}, follow=True)
    assert "If nobody@else.test has an invitation to “Cycle A”, its link is on its way" in text(response)
    assert mailoutbox == []

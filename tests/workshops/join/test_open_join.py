"""Open join: anyone with the code signs up with their email and becomes a normal member with the
code's preset role and stakeholder group, so response rates and attrition by group stay true."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, OrganisationGroup, User
from cycles.models import AuditEvent, Invitation, Membership, Role
from tests.factories import OrganisationFactory, UserFactory
from tests.workshops.join.conftest import join_url, round_url
from tests.workshops.join.test_join import markup, text
from workshops.delphi.aggregation import round_aggregate
from workshops.delphi.selectors import round_progress
from workshops.delphi.services import round_close

pytestmark = pytest.mark.django_db

NEW = "Ada Newcomer"


def sign_up(client, code, email="ada@new.test", organisation="Bristol College", **extra):
    data = {
        "action": "signup",
        "signup-display_name": NEW,
        "signup-email": email,
        "signup-organisation_name": organisation,
        "signup-password1": "a-long-pass-phrase-9",
        "signup-password2": "a-long-pass-phrase-9",
        **extra,
    }
    return client.post(join_url(code), data)


def test_the_landing_page_offers_sign_up_when_open_join_is_on(open_code):
    response = Client().get(join_url(open_code))
    assert response.status_code == 200
    page = text(response)
    assert "Sign up to take part as technologist" in page
    assert "An organisation new to the platform is counted in the Skills stakeholder group." in page
    assert "Already have an account?" in page


def test_without_open_join_there_is_no_sign_up_form(code):
    response = Client().get(join_url(code))
    assert "Sign up and join" not in text(response)
    assert Client().post(join_url(code), {"action": "signup"}).status_code == 403


def test_signing_up_makes_a_normal_member_with_the_preset_role_and_group(personas, open_code, delphi):
    client = Client()
    response = sign_up(client, open_code)
    assert response.status_code == 302 and response["Location"] == round_url()
    user = User.objects.get(email="ada@new.test")
    assert user.display_name == NEW and user.check_password("a-long-pass-phrase-9")
    assert user.organisation.name == "Bristol College" and user.group == OrganisationGroup.SKILLS
    membership = Membership.objects.get(cycle=personas.cycle, user=user)
    assert membership.role == Role.TECHNOLOGIST and membership.status == Membership.Status.ACTIVE
    # Through the one way in: an invitation, accepted at once, and no email sent.
    assert Invitation.objects.get(cycle=personas.cycle, email=user.email).accepted_by == user
    open_code.refresh_from_db()
    assert open_code.uses == 1
    # Logged in and on the round, welcomed.
    page = client.get(round_url())
    assert page.status_code == 200 and "Welcome to “Cycle A”: you take part as technologist." in markup(page)
    # Counted like everyone else: among the eligible panellists, in the Skills group.
    assert round_progress(rnd=delphi.round, plan=delphi.plan)["panellists"]["eligible"] == 3
    round_close(round_id=delphi.round.pk, actor=personas.convener)
    summary = round_aggregate(round_id=delphi.round.pk)
    assert summary["eligible"] == 3 and summary["eligible_by_group"]["skills"] == 1


def test_sign_up_is_audited(open_code):
    sign_up(Client(), open_code)
    event = AuditEvent.objects.get(verb="join_code.used")
    assert "Ada Newcomer joined with the join code" in event.summary and "as Technologist" in event.summary
    assert event.detail["user"] == "ada@new.test" and event.detail["group"] == "skills"
    assert AuditEvent.objects.filter(verb="membership.joined", actor__email="ada@new.test").exists()


def test_a_known_organisation_keeps_its_own_group(open_code):
    OrganisationFactory(name="Acme Engineering", group=OrganisationGroup.INDUSTRY)
    sign_up(Client(), open_code, organisation="Acme Engineering")
    assert User.objects.get(email="ada@new.test").group == OrganisationGroup.INDUSTRY
    assert Organisation.objects.filter(name="Acme Engineering").count() == 1


def test_an_email_already_registered_is_told_to_log_in(personas, open_code):
    response = sign_up(Client(), open_code, email=personas.outsider.email)
    assert response.status_code == 400
    assert f"An account already exists for {personas.outsider.email}: log in to join." in markup(response)
    assert not Membership.objects.filter(cycle=personas.cycle, user=personas.outsider).exists()
    open_code.refresh_from_db()
    assert open_code.uses == 0


def test_an_address_with_a_convener_invitation_must_use_that_invitation(personas, open_code):
    Invitation.objects.create(
        cycle=personas.cycle,
        email="boss@new.test",
        role=Role.CONVENER,
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    response = sign_up(Client(), open_code, email="boss@new.test")
    assert response.status_code == 400
    assert "boss@new.test has an invitation to “Cycle A”: use the link in the invitation email" in markup(response)
    assert not User.objects.filter(email="boss@new.test").exists()


def test_the_form_says_what_is_missing(open_code):
    before = User.objects.count()
    response = Client().post(join_url(open_code), {"action": "signup"})
    assert response.status_code == 400
    assert "Enter your email address: you log in with it." in markup(response)
    assert "Enter the organisation you work for" in markup(response)
    assert User.objects.count() == before


def test_maximum_uses_are_enforced(personas, open_code):
    open_code.max_uses = 1
    open_code.save()
    assert sign_up(Client(), open_code).status_code == 302
    response = sign_up(Client(), open_code, email="second@new.test")
    assert response.status_code in (400, 403)
    assert "has been used by as many people as the convener allowed (1)" in markup(response)
    assert not User.objects.filter(email="second@new.test").exists()
    open_code.refresh_from_db()
    assert open_code.uses == 1


def test_a_full_code_still_lets_members_in(personas, open_code):
    open_code.max_uses, open_code.uses = 1, 1
    open_code.save()
    assert personas.client_for(personas.technologist).get(join_url(open_code))["Location"] == round_url()


def test_an_expired_code_takes_no_sign_ups(open_code):
    open_code.expires_at = timezone.now() - timezone.timedelta(minutes=1)
    open_code.save()
    response = sign_up(Client(), open_code)
    assert response.status_code == 410 and "expired on" in markup(response)
    assert not User.objects.filter(email="ada@new.test").exists()


def test_a_withdrawn_code_takes_no_sign_ups(open_code):
    open_code.revoked_at = timezone.now()
    open_code.save()
    assert sign_up(Client(), open_code).status_code == 410
    assert not User.objects.filter(email="ada@new.test").exists()


def test_a_signed_in_outsider_joins_in_one_click(personas, open_code):
    client = personas.client_for(personas.outsider)
    page = client.get(join_url(open_code))
    assert page.status_code == 200
    assert "Join as Technologist, Industry" in text(page)  # their organisation's group
    response = client.post(join_url(open_code), {"action": "join"})
    assert response["Location"] == round_url()
    assert Membership.objects.get(cycle=personas.cycle, user=personas.outsider).role == Role.TECHNOLOGIST
    open_code.refresh_from_db()
    assert open_code.uses == 1


def test_someone_without_an_organisation_names_theirs_first(personas, open_code):
    person = UserFactory(email="loner@else.test", organisation=None)
    client = personas.client_for(person)
    assert "Join as Technologist, Skills" in text(client.get(join_url(open_code)))
    refused = client.post(join_url(open_code), {"action": "join"})
    assert refused.status_code == 400 and "Enter the organisation you work for" in markup(refused)
    client.post(join_url(open_code), {"action": "join", "organisation_name": "Loner Labs"})
    person.refresh_from_db()
    assert person.organisation.name == "Loner Labs" and person.group == OrganisationGroup.SKILLS


def test_a_removed_member_cannot_come_back_through_open_join(personas, open_code):
    Membership.objects.filter(user=personas.educator, cycle=personas.cycle).update(status=Membership.Status.REMOVED)
    client = personas.client_for(personas.educator)
    response = client.post(join_url(open_code), {"action": "join"})
    assert response.status_code == 400 and "You were removed from “Cycle A”" in markup(response)
    assert Membership.objects.get(user=personas.educator, cycle=personas.cycle).status == Membership.Status.REMOVED


def test_a_member_posting_the_form_again_just_lands_on_the_round(personas, open_code):
    response = personas.client_for(personas.technologist).post(join_url(open_code), {"action": "join"})
    assert response["Location"] == round_url()
    open_code.refresh_from_db()
    assert open_code.uses == 0

"""Invitations: single-use, expiring, no duplicates, and accepting them creates or links the account."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from cycles import services
from cycles.models import AuditEvent, Invitation, Membership, Role
from cycles.services import members
from tests.cycles.factories import InvitationFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_inviting_sends_one_email_with_a_single_use_link(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            cycle=personas.cycle, email="New.Person@Example.test", role=Role.EMPLOYER, invited_by=personas.convener
        )
    assert invitation.email == "new.person@example.test"
    assert invitation.status == "pending"
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body
    assert AuditEvent.objects.filter(verb="invitation.sent", actor=personas.convener).exists()


def test_a_second_pending_invitation_for_the_same_email_is_refused_and_changes_nothing(personas):
    services.invitation_create(
        cycle=personas.cycle, email="dup@example.test", role=Role.EMPLOYER, invited_by=personas.convener
    )
    with pytest.raises(ValidationError) as excinfo:
        services.invitation_create(
            cycle=personas.cycle, email="DUP@example.test", role=Role.EDUCATOR, invited_by=personas.convener
        )
    assert excinfo.value.message_dict["email"] == [members.ALREADY_INVITED.format(email="dup@example.test")]
    assert Invitation.objects.filter(email="dup@example.test").count() == 1


def test_inviting_an_active_member_is_refused(personas):
    with pytest.raises(ValidationError, match="already a member"):
        services.invitation_create(
            cycle=personas.cycle, email=personas.employer.email, role=Role.EMPLOYER, invited_by=personas.convener
        )
    assert not Invitation.objects.exists()


def test_the_same_email_may_be_invited_to_another_cycle(personas):
    services.invitation_create(
        cycle=personas.cycle, email="both@example.test", role=Role.EMPLOYER, invited_by=personas.convener
    )
    services.invitation_create(
        cycle=personas.other_cycle, email="both@example.test", role=Role.EMPLOYER, invited_by=personas.outsider
    )
    assert Invitation.objects.filter(email="both@example.test").count() == 2


def test_an_expired_invitation_can_be_replaced_by_a_new_one(personas):
    old = InvitationFactory(
        cycle=personas.cycle, email="late@example.test", expires_at=timezone.now() - timedelta(days=1)
    )
    new = services.invitation_create(
        cycle=personas.cycle, email="late@example.test", role=Role.EDUCATOR, invited_by=personas.convener
    )
    old.refresh_from_db()
    assert old.status == "revoked" and new.status == "pending"


def test_accepting_with_a_new_account_creates_the_user_and_the_membership(personas):
    invitation = InvitationFactory(
        cycle=personas.cycle,
        email="fresh@example.test",
        role=Role.EDUCATOR,
        organisation_name="New College",
        group="skills",
    )
    user, membership = services.invitation_accept_new_account(
        invitation=invitation, display_name="Fresh", password="a-long-passphrase-9"
    )
    assert user.email == "fresh@example.test" and user.check_password("a-long-passphrase-9")
    assert user.organisation.name == "New College" and user.organisation.group == "skills"
    assert membership.role == Role.EDUCATOR and membership.cycle == personas.cycle
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.accepted_by == user
    assert AuditEvent.objects.filter(verb="membership.joined", actor=user).exists()


def test_an_invitation_works_only_once(personas):
    invitation = InvitationFactory(cycle=personas.cycle, email="once@example.test")
    services.invitation_accept_new_account(invitation=invitation, display_name="Once", password="a-long-passphrase-9")
    with pytest.raises(ValidationError, match="accepted"):
        services.invitation_accept_new_account(
            invitation=invitation, display_name="Twice", password="a-long-passphrase-9"
        )
    user = User.objects.get(email="once@example.test")
    with pytest.raises(ValidationError, match="accepted"):
        services.invitation_accept(invitation=invitation, user=user)
    assert Membership.objects.filter(user=user).count() == 1


def test_an_expired_invitation_is_refused_and_creates_nothing(personas):
    invitation = InvitationFactory(
        cycle=personas.cycle, email="expired@example.test", expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ValidationError, match="expired"):
        services.invitation_accept_new_account(
            invitation=invitation, display_name="Late", password="a-long-passphrase-9"
        )
    assert not User.objects.filter(email="expired@example.test").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_revoked_invitation_cannot_be_accepted(personas):
    invitation = InvitationFactory(cycle=personas.cycle, email="gone@example.test")
    services.invitation_revoke(invitation=invitation, actor=personas.convener)
    with pytest.raises(ValidationError, match="revoked"):
        services.invitation_accept_new_account(
            invitation=invitation, display_name="Gone", password="a-long-passphrase-9"
        )
    assert AuditEvent.objects.filter(verb="invitation.revoked").exists()


def test_an_existing_account_accepts_while_logged_in_and_keeps_its_organisation(personas):
    invitation = InvitationFactory(
        cycle=personas.other_cycle, email=personas.employer.email, role=Role.EMPLOYER, organisation_name="Other Org"
    )
    organisation = personas.employer.organisation
    membership = services.invitation_accept(invitation=invitation, user=personas.employer)
    assert membership.cycle == personas.other_cycle
    personas.employer.refresh_from_db()
    assert personas.employer.organisation == organisation


def test_an_invitation_for_someone_else_is_refused(personas):
    invitation = InvitationFactory(cycle=personas.other_cycle, email="someone@example.test")
    with pytest.raises(ValidationError, match="sent to someone@example.test"):
        services.invitation_accept(invitation=invitation, user=personas.employer)
    assert not Membership.objects.filter(cycle=personas.other_cycle, user=personas.employer).exists()


def test_a_new_account_is_refused_when_the_email_already_has_one(personas):
    invitation = InvitationFactory(cycle=personas.other_cycle, email=personas.employer.email)
    with pytest.raises(ValidationError, match="log in"):
        services.invitation_accept_new_account(invitation=invitation, display_name="X", password="a-long-passphrase-9")


def test_a_removed_member_who_is_invited_again_is_reactivated_with_the_new_role(personas):
    membership = Membership.objects.get(cycle=personas.cycle, user=personas.employer)
    services.membership_remove(membership=membership, actor=personas.convener)
    invitation = services.invitation_create(
        cycle=personas.cycle, email=personas.employer.email, role=Role.OBSERVER, invited_by=personas.convener
    )
    services.invitation_accept(invitation=invitation, user=personas.employer)
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE and membership.role == Role.OBSERVER


def test_changing_a_role_is_audited(personas):
    membership = Membership.objects.get(cycle=personas.cycle, user=personas.employer)
    services.membership_change_role(membership=membership, role=Role.EDUCATOR, actor=personas.convener)
    event = AuditEvent.objects.get(verb="membership.role_changed")
    assert event.actor == personas.convener
    assert event.detail == {"user": personas.employer.email, "from": "employer", "to": "educator"}


def test_the_last_convener_can_neither_be_removed_nor_demoted(personas):
    membership = Membership.objects.get(cycle=personas.cycle, user=personas.convener)
    with pytest.raises(ValidationError, match="at least one convener"):
        services.membership_remove(membership=membership, actor=personas.convener)
    with pytest.raises(ValidationError, match="at least one convener"):
        services.membership_change_role(membership=membership, role=Role.OBSERVER, actor=personas.convener)
    membership.refresh_from_db()
    assert membership.role == Role.CONVENER and membership.status == Membership.Status.ACTIVE


def test_a_convener_may_step_down_when_another_convener_exists(personas):
    other = MembershipFactory(cycle=personas.cycle, user=UserFactory(), role=Role.CONVENER)
    services.membership_change_role(membership=other, role=Role.OBSERVER, actor=personas.convener)
    other.refresh_from_db()
    assert other.role == Role.OBSERVER


def test_the_invitation_email_is_sent_once_even_if_the_task_runs_twice(personas, django_capture_on_commit_callbacks):
    from cycles.tasks import send_invitation_email

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            cycle=personas.cycle, email="once@example.test", role=Role.OBSERVER, invited_by=personas.convener
        )
    assert send_invitation_email(invitation.pk) is False
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.email_sent_at is not None


def test_a_bulk_invitation_sends_one_email_per_person(personas, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = b"name,email,organisation,group,role\nA,a@example.test,,,observer\nB,b@example.test,,,employer\n"
    with django_capture_on_commit_callbacks(execute=True):
        services.invitations_bulk_create(
            cycle=personas.cycle, upload=SimpleUploadedFile("p.csv", csv), invited_by=personas.convener
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.test", "b@example.test"]


def test_re_sending_an_expired_invitation_gives_a_fresh_link_and_kills_the_old_one(personas):
    old = InvitationFactory(
        cycle=personas.cycle, email="again@example.test", expires_at=timezone.now() - timedelta(days=1)
    )
    fresh = services.invitation_resend(invitation=old, actor=personas.convener)
    old.refresh_from_db()
    assert old.status == "revoked" and fresh.status == "pending" and fresh.token != old.token
    assert AuditEvent.objects.filter(verb="invitation.resent").exists()
    with pytest.raises(ValidationError, match="revoked"):
        services.invitation_accept_new_account(invitation=old, display_name="A", password="a-long-passphrase-9")


def test_an_accepted_invitation_cannot_be_re_sent(personas):
    invitation = InvitationFactory(cycle=personas.cycle, email="done@example.test")
    services.invitation_accept_new_account(invitation=invitation, display_name="D", password="a-long-passphrase-9")
    with pytest.raises(ValidationError, match="accepted"):
        services.invitation_resend(invitation=invitation, actor=personas.convener)
    assert Invitation.objects.filter(email="done@example.test").count() == 1

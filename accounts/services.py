"""Writes on people: anonymising an account when its personal data is erased."""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, OrganisationGroup, User

ERASED_NAME = "Erased participant"
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no mail can reach it


def erased_organisation(group: str) -> Organisation | None:
    """The shared stand-in organisation of a stakeholder group, so an erased person's answers still
    count in their group (participation and attrition are reported by group), without their employer."""
    if not group:
        return None
    label = OrganisationGroup(group).label
    organisation, _ = Organisation.objects.get_or_create(name=f"{ERASED_NAME}s ({label})", defaults={"group": group})
    return organisation


@transaction.atomic
def user_anonymise(*, user: User) -> User:
    """Strip everything that identifies ``user`` from their account, keeping the row (and so every
    vote, rating and membership that points at it) and their stakeholder group. They can no longer
    sign in: the password is unusable, their single sign-on links are deleted and the account is
    inactive, which also ends their sessions."""
    user = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    user.email = f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"
    user.display_name = ERASED_NAME
    user.organisation = erased_organisation(user.group)
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.last_login = None
    user.date_joined = now
    user.erased_at = now
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    # Single sign-on links hold the provider's identifier and claims (email, name): gone too, and
    # the provider can no longer sign anyone in to this row.
    SocialAccount.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    return user

"""Anonymising an account: nothing that identifies the person stays; their stakeholder group does."""

from __future__ import annotations

import pytest

from accounts.models import Organisation, OrganisationGroup, User
from accounts.services import ERASED_NAME, erased_organisation, user_anonymise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_strips_name_address_organisation_and_sign_in_and_keeps_the_row_and_group():
    person = UserFactory(
        email="sam@trust.test", display_name="Sam Smith", organisation__name="Leeds Trust", organisation__group="skills"
    )
    person.is_staff = True
    person.save()
    erased = user_anonymise(user=person)
    assert erased.pk == person.pk and User.objects.count() == 1
    assert erased.display_name == ERASED_NAME and "sam" not in erased.email and erased.email.endswith("@erased.invalid")
    assert erased.organisation.name == "Erased participants (Skills)" and erased.group == OrganisationGroup.SKILLS
    assert not (erased.is_active or erased.is_staff or erased.is_superuser or erased.has_usable_password())
    assert erased.last_login is None and erased.erased_at is not None
    assert Organisation.objects.filter(name="Leeds Trust").exists()  # the organisation itself is nobody's data


def test_people_of_one_group_share_one_stand_in_organisation_and_no_group_stays_none():
    a = user_anonymise(user=UserFactory(organisation__group="industry"))
    b = user_anonymise(user=UserFactory(organisation__group="industry"))
    assert a.organisation == b.organisation == erased_organisation("industry")
    assert user_anonymise(user=UserFactory(organisation=None)).organisation is None


def test_two_erased_accounts_never_share_an_address():
    emails = {user_anonymise(user=UserFactory()).email for _ in range(5)}
    assert len(emails) == 5

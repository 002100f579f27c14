"""A person's own profile: their name, their password, their organisation and cycles."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-longer-passphrase-42"


def test_the_name_in_the_navigation_leads_to_the_profile(personas):
    client = personas.client_for(personas.technologist)
    page = client.get(reverse("cycles:dashboard")).content.decode()
    assert f'href="{reverse("accounts:profile")}"' in page


def test_a_member_sees_their_organisation_and_their_cycles_with_their_role_only(personas):
    response = personas.client_for(personas.technologist).get(reverse("accounts:profile"))
    assert response.status_code == 200
    page = response.content.decode()
    assert personas.technologist.email in page
    assert personas.technologist.organisation.name in page
    assert "Cycle A" in page and "Technologist" in page
    assert "Cycle B" not in page  # the outsider's cycle


def test_a_new_display_name_is_saved_with_its_spacing_tidied(personas):
    client = personas.client_for(personas.employer)
    response = client.post(reverse("accounts:profile"), {"profile-display_name": "  Dr   Ada  Lovelace "}, follow=True)
    assert "Your display name was saved." in response.content.decode()
    assert User.objects.get(pk=personas.employer.pk).display_name == "Dr Ada Lovelace"


def test_a_blank_name_is_refused_on_its_field_and_nothing_changes(personas):
    before = personas.employer.display_name
    response = personas.client_for(personas.employer).post(reverse("accounts:profile"), {"profile-display_name": "   "})
    assert response.status_code == 400
    assert "Enter the name others should see." in response.content.decode()
    assert User.objects.get(pk=personas.employer.pk).display_name == before


def test_the_email_and_organisation_cannot_be_changed_here(personas):
    user = personas.educator
    personas.client_for(user).post(
        reverse("accounts:profile"),
        {"profile-display_name": "Educator", "profile-email": "hijack@evil.test", "profile-organisation": ""},
    )
    fresh = User.objects.get(pk=user.pk)
    assert fresh.email == user.email and fresh.organisation_id == user.organisation_id


def test_a_wrong_current_password_changes_nothing(personas, password):
    client = personas.client_for(personas.educator)
    response = client.post(
        reverse("accounts:profile"),
        {
            "password-old_password": "not-it",
            "password-new_password1": NEW_PASSWORD,
            "password-new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "old password was entered incorrectly" in response.content.decode()
    assert User.objects.get(pk=personas.educator.pk).check_password(password)


def test_a_changed_password_works_at_the_next_login_and_this_session_stays_signed_in(personas, password):
    client = personas.client_for(personas.educator)
    response = client.post(
        reverse("accounts:profile"),
        {
            "password-old_password": password,
            "password-new_password1": NEW_PASSWORD,
            "password-new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert "Your password was changed." in response.content.decode()
    assert client.get(reverse("accounts:profile")).status_code == 200  # still signed in

    email = personas.educator.email
    assert not Client().login(username=email, password=password)
    assert Client().login(username=email, password=NEW_PASSWORD)

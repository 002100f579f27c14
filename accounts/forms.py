"""Account forms: sign-in, password reset and the profile page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User
from core.forms import BootstrapMixin


class ProfileForm(BootstrapMixin, forms.ModelForm):
    """What people may change about themselves: the name others see. Email and organisation
    (whose stakeholder group feeds participation and attrition reports) are kept by staff."""

    class Meta:
        model = User
        fields = ["display_name"]
        labels = {"display_name": "Display name"}
        help_texts = {"display_name": "Shown to the other members of your cycles (never beside your votes)."}

    def clean_display_name(self):
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise ValidationError("Enter the name others should see.")
        return name


class PasswordChangeForm(BootstrapMixin, auth_forms.PasswordChangeForm):
    pass


PASSWORDS_DIFFER = "The two passwords differ."


def check_new_password(form: forms.Form, data: dict, *, email: str) -> None:
    """The check every form that makes an account runs on ``password1``/``password2``: the two
    match and pass the site's password validators (judged against the new person's email and name)."""
    p1, p2 = data.get("password1"), data.get("password2")
    if p1 and p2 and p1 != p2:
        form.add_error("password2", PASSWORDS_DIFFER)
    elif p1:
        try:
            validate_password(p1, user=User(email=email, display_name=data.get("display_name", "")))
        except ValidationError as exc:
            form.add_error("password1", exc)

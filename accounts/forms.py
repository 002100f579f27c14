"""Account forms: sign-in, password reset and the profile page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
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

"""The tokens page's form."""

from __future__ import annotations

from django import forms

from api.services import LIFETIMES
from core.forms import BootstrapMixin

LIFETIME_CHOICES = [(str(days or ""), f"{days} days" if days else "Until I revoke it") for days in LIFETIMES]


class ApiTokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label="What is it for?",
        max_length=100,
        help_text="A name you will recognise in the list, e.g. “Power BI dashboard”.",
    )
    lifetime = forms.ChoiceField(label="Expires after", choices=LIFETIME_CHOICES, initial="90", required=False)

    def clean_lifetime(self) -> int | None:
        value = self.cleaned_data.get("lifetime")
        return int(value) if value else None

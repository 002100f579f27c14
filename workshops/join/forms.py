"""Forms of the join pages (what people type; the rules live in the services)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from accounts.forms import check_new_password
from accounts.models import OrganisationGroup
from core.forms import BootstrapMixin
from cycles.models import Role
from workshops.join.codes import LENGTH
from workshops.join.selectors import GROUP_FOR_ROLE
from workshops.join.services import ORGANISATION_NEEDED


class CodeForm(forms.Form):
    """The one big field of /join: typed on a phone, in any case, with or without the space."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg join-code-input",
                "inputmode": "text",
                "autocapitalize": "characters",
                "autocomplete": "off",
                "autocorrect": "off",
                "spellcheck": "false",
                "enterkeyhint": "go",
                "placeholder": "K7QM 2XPA",
                "maxlength": 20,
                "aria-describedby": "code-help",
            }
        ),
    )


class SignUpForm(BootstrapMixin, forms.Form):
    """Open join for someone new: the account the invitation page would make, and its organisation."""

    display_name = forms.CharField(
        max_length=150,
        label="Your name",
        error_messages={"required": "Enter your name: the other members see it (never beside your answers)."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Your email",
        error_messages={"required": "Enter your email address: you log in with it."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    organisation_name = forms.CharField(
        max_length=200,
        label="Your organisation",
        error_messages={"required": ORGANISATION_NEEDED},
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    password1 = forms.CharField(
        label="Choose a password",
        error_messages={"required": "Choose a password."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Repeat the password",
        error_messages={"required": "Type the password a second time."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, group_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if group_label:
            self.fields[
                "organisation_name"
            ].help_text = f"An organisation new to the platform is counted in the {group_label} stakeholder group."

    def clean(self):
        data = super().clean()
        check_new_password(self, data, email=data.get("email", ""))
        return data


class JoinForm(BootstrapMixin, forms.Form):
    """Open join for a signed-in person; asks for an organisation only when they have none."""

    organisation_name = forms.CharField(
        max_length=200,
        label="Your organisation",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class InvitationLinkForm(BootstrapMixin, forms.Form):
    """An invited person without an account asks for their invitation link again."""

    email = forms.EmailField(
        label="The address your invitation was sent to",
        error_messages={"required": "Enter the email address your invitation was sent to."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SettingsForm(BootstrapMixin, forms.Form):
    open_join = forms.BooleanField(
        label="Open join: anyone with the code may sign up with their email",
        required=False,
        help_text="They become members with the role and group below. Members and invited people join "
        "with the code either way.",
    )
    role = forms.ChoiceField(label="Their role", required=False)
    group = forms.ChoiceField(
        label="Their stakeholder group",
        required=False,
        choices=[("", "—"), *OrganisationGroup.choices],
        help_text="Given to a new organisation; people from an organisation already known keep its group.",
    )
    max_uses = forms.IntegerField(
        label="Most sign-ups (optional)", min_value=1, max_value=10000, required=False,
        help_text="Open join stops once this many people have signed up with the code.",
    )  # fmt: skip
    expires_at = forms.DateTimeField(
        label="Code works until (optional)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="After this time the code stops working for everyone; members still find the screen "
        "from the cycle's pages.",
    )  # fmt: skip

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "—"), *((r, Role(r).label) for r in roles)]

    @classmethod
    def initial_from(cls, code, roles: list[str]) -> dict:
        role = code.role or (roles[0] if roles else "")
        group = code.group or str(GROUP_FOR_ROLE.get(role, ""))
        expires = timezone.localtime(code.expires_at) if code.expires_at else None
        return {
            "open_join": code.open_join,
            "role": role,
            "group": group,
            "max_uses": code.max_uses,
            "expires_at": expires,
        }


# Shown under the code field and in tests: what a code looks like.
CODE_HELP = f"The {LENGTH} letters and digits on the screen. Capitals, spaces and dashes do not matter."

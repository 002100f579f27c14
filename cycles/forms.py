"""Forms for the cycles app. They check formats; the services check the rules."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from django import forms

from accounts.forms import check_new_password
from accounts.models import OrganisationGroup
from core.forms import BootstrapMixin
from cycles.models import Cycle, Phase, PhasePlan, Role, RoleLevel, SupplyChainPartner, Workshop
from cycles.services.lifecycle import CYCLE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
COMMON_TIMEZONES = ["Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin", "America/New_York", "UTC"]


class CycleForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Cycle
        fields = list(CYCLE_FIELDS)
        labels = {
            "challenge": "Challenge (the what)",
            "challenge_when": "Horizon (the when)",
            "technology_focus": "Technology focus",
            "convener_organisation": "Convener organisation",
            "centre_of_innovation": "Centre of innovation",
        }
        widgets = {"challenge": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        from accounts.sso import configured_providers

        super().__init__(*args, **kwargs)
        providers = configured_providers()
        current = self.instance.sign_in_provider if self.instance else ""
        if not providers and not current:
            del self.fields["sign_in_provider"]  # nothing to choose: no single sign-on configured
            return
        choices = [("", "Any sign-in (password or single sign-on)")]
        choices += [(pid, f"Only {name}") for pid, name in providers.items()]
        if current and current not in providers:
            choices.append((current, f"{current} (no longer configured)"))
        field = self.fields["sign_in_provider"]
        self.fields["sign_in_provider"] = forms.ChoiceField(
            label="Required sign-in", choices=choices, required=False, help_text=field.help_text
        )


class PhasePlanForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = PhasePlan
        fields = ["planned_start", "planned_end", "actual_start", "actual_end"]
        widgets = {f: DATE for f in fields}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label = self.instance.get_phase_display()
        for name, field in self.fields.items():
            field.widget.attrs["aria-label"] = f"{label}: {name.replace('_', ' ')}"
            field.widget.attrs["class"] += " form-control-sm"

    def _post_clean(self):
        # The service checks the date order (one place for the rule); skip the model's clean().
        pass


class ReopenForm(BootstrapMixin, forms.Form):
    phase = forms.TypedChoiceField(coerce=int, label="Phase to reopen")
    reason = forms.CharField(max_length=200, required=False, label="Reason (recorded in the audit log)")

    def __init__(self, *args, cycle: Cycle, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = [(n, label) for n, label in Phase.choices if n < cycle.phase]


class InvitationForm(BootstrapMixin, forms.Form):
    email = forms.EmailField(label="Email address")
    # No role preselected: the first in the list is Convener, and a hurried convener would hand
    # someone the whole cycle. An empty choice makes them pick ("This field is required").
    role = forms.ChoiceField(choices=[("", "Choose a role…"), *Role.choices])
    name = forms.CharField(max_length=150, required=False, label="Name (optional)")
    organisation_name = forms.CharField(max_length=200, required=False, label="Organisation (optional)")
    group = forms.ChoiceField(
        choices=[("", "—")] + list(OrganisationGroup.choices), required=False, label="Stakeholder group"
    )


class BulkInviteForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, email, organisation, group, role (header row required, UTF-8).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class MembershipRoleForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SolutionForm(BootstrapMixin, forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


SCORES = [(n, str(n)) for n in range(1, 6)]


SCORE_MISSING = "Choose a score from 1 to 5."


class RatingForm(BootstrapMixin, forms.Form):
    """One solution's row of the rating form (prefixed ``s<solution id>``)."""

    impact = forms.TypedChoiceField(
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        label="Impact (1 low – 5 high)",
        error_messages={"required": SCORE_MISSING},
    )
    feasibility = forms.TypedChoiceField(
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        label="Feasibility (1 low – 5 high)",
        error_messages={"required": SCORE_MISSING},
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Comment (optional)")


ORDER_HELP = "Position in lists (empty: at the end)."


class OptionalOrderMixin:
    """An "Order" that may stay empty: a new row's starts empty (not the model's default 0), and an
    empty order reaches the service as None, which puts a new row at the end and leaves an existing
    row where it is (cycles.services.prepare, ``_next_order``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["order"]
        field.required = False
        field.initial = None
        field.widget.attrs.setdefault("placeholder", "at the end")
        if self.instance.pk is None:
            self.initial.pop("order", None)


class PartnerForm(OptionalOrderMixin, BootstrapMixin, forms.ModelForm):
    class Meta:
        model = SupplyChainPartner
        fields = ["name", "description", "order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"order": ORDER_HELP}

    def _post_clean(self):
        pass  # uniqueness and the rest are checked by the service


class RoleLevelForm(OptionalOrderMixin, BootstrapMixin, forms.ModelForm):
    academic_level_min = forms.IntegerField(label="Lowest academic level", min_value=2, max_value=7, initial=3)
    academic_level_max = forms.IntegerField(label="Highest academic level", min_value=2, max_value=7, initial=5)

    class Meta:
        model = RoleLevel
        fields = ["name", "description", "academic_level_min", "academic_level_max", "order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"order": ORDER_HELP}

    def _post_clean(self):
        pass  # the service checks min ≤ max and the unique name


class WorkshopForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(choices=Workshop.Kind.choices)
    title = forms.CharField(max_length=200)
    starts_at = forms.DateTimeField(widget=DATETIME, label="Starts", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    ends_at = forms.DateTimeField(widget=DATETIME, label="Ends", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    timezone = forms.ChoiceField(label="Time zone", initial="Europe/London")
    place = forms.CharField(max_length=300, required=False)
    video_link = forms.URLField(required=False, label="Video link", assume_scheme="https")
    facilitator = forms.ModelChoiceField(queryset=None, required=False, empty_label="— nobody yet —")

    def __init__(self, *args, cycle: Cycle, workshop: Workshop | None = None, **kwargs):
        if workshop is not None and "initial" not in kwargs:
            tz = ZoneInfo(workshop.timezone)
            kwargs["initial"] = {
                "kind": workshop.kind,
                "title": workshop.title,
                "starts_at": workshop.starts_at.astimezone(tz).replace(tzinfo=None),
                "ends_at": workshop.ends_at.astimezone(tz).replace(tzinfo=None),
                "timezone": workshop.timezone,
                "place": workshop.place,
                "video_link": workshop.video_link,
                "facilitator": workshop.facilitator_id,
            }
        super().__init__(*args, **kwargs)
        zones = sorted(available_timezones())
        self.fields["timezone"].choices = [(z, z) for z in COMMON_TIMEZONES] + [
            (z, z) for z in zones if z not in COMMON_TIMEZONES
        ]
        from accounts.models import User

        self.fields["facilitator"].queryset = User.objects.filter(
            memberships__cycle=cycle, memberships__status="active"
        ).order_by("display_name", "email")

    def clean(self):
        data = super().clean()
        tz_name = data.get("timezone")
        if tz_name:
            tz = ZoneInfo(tz_name)
            for name in ("starts_at", "ends_at"):
                value: datetime | None = data.get(name)
                if value is not None:
                    # The browser sends wall-clock time: read it in the workshop's own time zone.
                    data[name] = value.replace(tzinfo=None).replace(tzinfo=tz)
        return data


class AcceptNewAccountForm(BootstrapMixin, forms.Form):
    display_name = forms.CharField(
        max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password1 = forms.CharField(
        label="Choose a password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Repeat the password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        check_new_password(self, data, email=self.email)
        return data

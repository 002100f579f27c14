"""Forms of the Delphi pages (validation of what people type; the rules live in the services)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from workshops.delphi.reminders import reminder_hours_parse
from workshops.delphi.selectors import MIN_ANSWERS_SHOWN
from workshops.delphi.services import APPENDIX_FIELDS, APPENDIX_NOTE_LIMIT, VOTING_ROLE_CHOICES, DelphiError
from workshops.models import DelphiPlan, ItemChange


class DelphiPlanForm(forms.Form):
    voting_roles = forms.MultipleChoiceField(
        label="Roles that vote",
        choices=[(str(r), r.label) for r in VOTING_ROLE_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Members with these roles answer the rounds; everyone else follows progress.",
    )
    min_responses = forms.IntegerField(
        label="Minimum answers per item", min_value=MIN_ANSWERS_SHOWN, max_value=1000, initial=3,
        help_text=f"An item with fewer answers cannot reach consensus (at least {MIN_ANSWERS_SHOWN}: with fewer, "
        "a panellist could read another's answer from the result).",
    )  # fmt: skip
    agreement_percent = forms.IntegerField(
        label="Agreement needed (%)", min_value=1, max_value=100, initial=70,
        help_text="Share of answers in the modal (most common) proficiency.",
    )  # fmt: skip
    iqr_max = forms.FloatField(
        label="Largest interquartile range", min_value=0, max_value=3, initial=1.0,
        help_text="IQR of the answers (0–3 scale) at or below which the panel agrees.",
    )  # fmt: skip
    stability_percent = forms.IntegerField(
        label="Stable when fewer than (%) change", min_value=0, max_value=100, initial=15,
        help_text="Of the panellists who answered an item in two consecutive rounds.",
    )  # fmt: skip
    max_rounds = forms.IntegerField(label="Maximum rounds", min_value=1, max_value=10, initial=3)
    feedback_mode = forms.ChoiceField(
        label="Feedback", choices=DelphiPlan.FeedbackMode.choices, widget=forms.RadioSelect,
        help_text="Classic: the group's answers are shown after a round closes. Live: as they arrive.",
    )  # fmt: skip
    live_quorum = forms.IntegerField(
        label="Live quorum", min_value=0, max_value=1000, initial=0, required=False,
        help_text="Answers an item needs before its live distribution is shown (0: from the first answer).",
    )  # fmt: skip
    allow_cant_judge = forms.BooleanField(
        label="Offer “I can't judge this”", required=False,
        help_text="A panellist may say an item is outside their expertise. Such answers are counted and reported per "
        "item and stakeholder group, but left out of the number of answers, median, IQR, agreement and stability.",
    )  # fmt: skip
    require_group_consensus = forms.BooleanField(
        label="Require consensus in every stakeholder group", required=False,
        help_text=f"An item counts as agreed only when, besides the whole panel, each stakeholder group (technology, "
        f"industry, skills) with at least {MIN_ANSWERS_SHOWN} answers reaches consensus on the same value. Groups with "
        "fewer answers are too small to judge and are left out.",
    )  # fmt: skip

    @classmethod
    def initial_from(cls, plan: DelphiPlan) -> dict:
        return {
            "voting_roles": plan.voting_roles,
            "min_responses": plan.min_responses,
            "agreement_percent": round(plan.agreement_threshold * 100),
            "iqr_max": plan.iqr_max,
            "stability_percent": round(plan.stability_threshold * 100),
            "max_rounds": plan.max_rounds,
            "feedback_mode": plan.feedback_mode,
            "live_quorum": plan.live_quorum,
            "require_group_consensus": plan.require_group_consensus,
            "allow_cant_judge": plan.allow_cant_judge,
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "voting_roles": list(data["voting_roles"]),
            "min_responses": data["min_responses"],
            "agreement_threshold": data["agreement_percent"] / 100,
            "iqr_max": data["iqr_max"],
            "stability_threshold": data["stability_percent"] / 100,
            "max_rounds": data["max_rounds"],
            "feedback_mode": data["feedback_mode"],
            "live_quorum": data.get("live_quorum") or 0,
            "require_group_consensus": bool(data.get("require_group_consensus")),
            "allow_cant_judge": bool(data.get("allow_cant_judge")),
        }


class RoundOpenForm(forms.Form):
    deadline = forms.DateTimeField(
        label="Deadline (optional)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="The round closes by itself at this time; leave empty to close it by hand.",
    )  # fmt: skip
    items = forms.MultipleChoiceField(label="Items in this round", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, proposed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [
            (str(item.pk), f"{item} — {item.wording}" if item.wording else str(item)) for item in proposed
        ]

    def clean_deadline(self):
        deadline = self.cleaned_data.get("deadline")
        if deadline is not None and deadline <= timezone.now():
            raise forms.ValidationError("The deadline must be in the future.")
        return deadline


class AppendixForm(forms.Form):
    """The methods appendix's fields the data cannot fill (one text box per field)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in APPENDIX_FIELDS.items():
            self.fields[key] = forms.CharField(
                label=label,
                required=False,
                max_length=APPENDIX_NOTE_LIMIT,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )


KIND_CHOICES = [
    (str(ItemChange.Kind.REWORD), "Reword one item"),
    (str(ItemChange.Kind.SPLIT), "Split one item"),
    (str(ItemChange.Kind.MERGE), "Merge items"),
    (str(ItemChange.Kind.DROP), "Drop one item"),
    (str(ItemChange.Kind.ADD), "Add an item"),
]


class ItemChangeForm(forms.Form):
    """One change to the items before the next round; the service checks what each kind needs."""

    kind = forms.ChoiceField(
        label="Change", choices=KIND_CHOICES, widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    items = forms.MultipleChoiceField(
        label="Items", required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="One item to reword, split or drop; two or more at the same role level to merge; none to add.",
    )  # fmt: skip
    wording = forms.CharField(
        label="New wording", required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text="A split: one part a line. Not needed to drop an item.",
    )  # fmt: skip
    capability = forms.ChoiceField(label="Capability (to add an item)", required=False)
    role_level = forms.ChoiceField(label="Role level (to add an item)", required=False)
    reason = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text="Required: the report and the methods appendix print every change with its reason.",
    )  # fmt: skip

    def __init__(self, *args, carried=(), capabilities=(), levels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [
            (str(item.pk), f"{item.ref} at {item.role_level.name}: {item.statement}") for item in carried
        ]
        self.fields["capability"].choices = [("", "—")] + [
            (str(c.pk), f"{c.ref} {c.statement[:80]}") for c in capabilities
        ]
        self.fields["role_level"].choices = [("", "—")] + [(str(lv.pk), lv.name) for lv in levels]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "item_ids": list(data["items"]),
            "wording": data["wording"],
            "capability": data["capability"],
            "role_level": data["role_level"],
            "reason": data["reason"],
        }


class ReminderForm(forms.Form):
    hours = forms.CharField(
        label="Remind before the deadline", required=False, max_length=100,
        help_text="Days (d) or hours (h) before a round's deadline, e.g. “3d, 1d”. Empty: no reminders.",
    )  # fmt: skip

    def clean_hours(self):
        try:
            return reminder_hours_parse(self.cleaned_data.get("hours") or "")
        except DelphiError as error:
            raise forms.ValidationError(error.message) from error

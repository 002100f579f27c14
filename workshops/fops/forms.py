"""Forms of the FOP pages (the services validate; the forms label, parse and re-render)."""

from __future__ import annotations

from django import forms

from workshops.fops.types import ProposalParameters
from workshops.models import Proficiency

PROFICIENCY_CHOICES = [(p.value, p.label) for p in Proficiency if p.value >= 1]


class ProposalForm(forms.Form):
    max_size = forms.IntegerField(
        label="Largest profile (capabilities)",
        min_value=2,
        max_value=40,
        initial=ProposalParameters.max_size,
        help_text="No proposed FOP gets more capabilities than this.",
    )
    min_size = forms.IntegerField(
        label="Smallest profile",
        min_value=1,
        max_value=40,
        initial=ProposalParameters.min_size,
        help_text="Smaller groups join the most similar profile that has room.",
    )
    similarity = forms.FloatField(
        label="Similarity threshold",
        min_value=0.0,
        max_value=1.0,
        initial=ProposalParameters.similarity,
        help_text="0–1: how alike (by meaning and shared supply-chain partners) capabilities must be to share a "
        "profile. Higher gives more, smaller profiles.",
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("min_size") and data.get("max_size") and data["min_size"] > data["max_size"]:
            self.add_error("min_size", "The smallest profile cannot be larger than the largest.")
        return data


class FOPCreateForm(forms.Form):
    name = forms.CharField(label="Title", max_length=200)
    role_level = forms.ModelChoiceField(label="Role level", queryset=None, required=False)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, cycle, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role_level"].queryset = cycle.role_levels.all()


class FOPEditForm(forms.Form):
    name = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    priority = forms.BooleanField(label="Priority FOP", required=False)
    reason = forms.CharField(label="Why (recorded in the history)", required=False, max_length=500)


class SplitForm(forms.Form):
    new_name = forms.CharField(label="Title of the new FOP", max_length=200)
    capabilities = forms.MultipleChoiceField(
        label="Capabilities to move", widget=forms.CheckboxSelectMultiple, choices=()
    )
    reason = forms.CharField(label="Why", required=False, max_length=500)

    def __init__(self, *args, fop, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capabilities"].choices = [
            (e.capability_id, f"{e.capability.ref} {e.capability.statement}")
            for e in fop.entries.select_related("capability").order_by("capability__ref")
        ]

"""Forms of the findings app (labelled; they re-render with their errors)."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from accounts.models import User
from cycles.models import Membership
from findings.models import ActionItem, ExportJob, ReportSection
from workshops.fops.selectors import cycle_fop_labels
from workshops.models import FOP, Capability

# Capabilities an action can be linked to: those still in play, not rejected or merged into another.
LIVE_CAPABILITY_STATUSES = (Capability.Status.SUBMITTED, Capability.Status.ACCEPTED)


class ActionItemForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = [
            "horizon",
            "topic",
            "action",
            "who",
            "when",
            "due_date",
            "expected_result",
            "owner",
            "status",
            "fops",
            "capabilities",
        ]
        widgets = {
            "action": forms.Textarea(attrs={"rows": 3}),
            "expected_result": forms.Textarea(attrs={"rows": 2}),
            "due_date": forms.DateInput(attrs={"type": "date"}),
            # Checkboxes in a scrolling list with a filter box (app.js), not a Ctrl-click list box.
            "fops": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "capabilities": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        }
        labels = {"fops": "Linked FOPs", "capabilities": "Linked capabilities", "expected_result": "Expected result"}

    def __init__(self, *args, cycle, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            memberships__cycle=cycle, memberships__status=Membership.Status.ACTIVE
        ).order_by("display_name", "email")
        self.fields["owner"].label_from_instance = lambda u: u.display_name or u.email
        self.fields["fops"].queryset = FOP.objects.filter(cycle=cycle).order_by("name", "id")
        labels = cycle_fop_labels(cycle.pk)  # two FOPs of one name read apart (their role level)
        self.fields["fops"].label_from_instance = lambda fop: labels.get(fop.pk, fop.name)
        # Only live capabilities (submitted or accepted) can be linked; one a saved action already links
        # stays listed, marked, so editing the action never drops the link without the convener seeing it.
        live = Q(status__in=LIVE_CAPABILITY_STATUSES)
        if self.instance.pk:
            live |= Q(pk__in=self.instance.capabilities.values("pk"))
        self.fields["capabilities"].queryset = Capability.objects.filter(live, cycle=cycle).order_by("ref", "id")
        self.fields["capabilities"].label_from_instance = _capability_label
        self.fields[
            "capabilities"
        ].help_text = "Submitted and accepted capabilities; rejected and merged ones are not listed."
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
            if name in ("fops", "capabilities"):
                field.required = False


def _capability_label(capability: Capability) -> str:
    label = f"{capability.ref} {capability.statement[:90]}"
    if capability.status not in LIVE_CAPABILITY_STATUSES:
        label += f" ({capability.get_status_display().lower()})"
    return label


class ReportSectionForm(forms.Form):
    body = forms.CharField(
        label="Text (Markdown: paragraphs, **bold**, lists, links)",
        widget=forms.Textarea(attrs={"rows": 14, "class": "form-control"}),
        required=False,
        max_length=20000,
    )


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        label="Who is this link for?",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "e.g. Sponsor board"}),
    )


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=ExportJob.Kind.choices)


SECTION_KEYS = dict(ReportSection.Key.choices)

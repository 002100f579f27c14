"""Forms of capability capture and the taxonomy pages (validation of wording lives in the services)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from workshops.capture.checks import STATEMENT_MAX_LENGTH, STATEMENT_MIN_LENGTH
from workshops.models import Function, FunctionalArea, FunctionalDomain

FILE_TOO_LARGE = "The file is larger than {limit} KB."


class CapabilityForm(forms.Form):
    statement = forms.CharField(
        label="Capability statement",
        help_text=(
            f"One sentence, starting with a verb, saying what the organisation must be able to do "
            f"({STATEMENT_MIN_LENGTH}–{STATEMENT_MAX_LENGTH} characters)."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": STATEMENT_MAX_LENGTH + 100}),
    )
    partners = forms.ModelMultipleChoiceField(
        label="Supply-chain partners",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="The organisation types that need this capability.",
    )
    # Every entry is valid here; the services refuse a domain outside its function with a clear
    # message, and the page narrows the choices as a function is picked.
    function = forms.ModelChoiceField(label="Function", queryset=Function.objects.all(), required=False)
    domain = forms.ModelChoiceField(label="Functional domain", queryset=FunctionalDomain.objects.all(), required=False)
    area = forms.ModelChoiceField(label="Functional area", queryset=FunctionalArea.objects.all(), required=False)

    def __init__(self, *args, cycle, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = cycle.partners.all()


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to the workshop next to the rejected statement.",
        required=False,  # the service says why an empty reason is refused
    )


class MergeForm(forms.Form):
    sources = forms.ModelMultipleChoiceField(
        label="Duplicates to merge into this statement",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = candidates
        self.fields["sources"].label_from_instance = lambda c: f"{c.ref} ({c.get_status_display()}): {c.statement}"


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(FILE_TOO_LARGE.format(limit=limit // 1024))
        return upload


class CapabilityImportForm(CsvUploadForm):
    accept = forms.BooleanField(
        label="Mark the imported statements as accepted",
        required=False,
        initial=True,
    )

"""Forms of capability capture and the taxonomy pages (validation of wording lives in the services)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from workshops.capture.checks import STATEMENT_MAX_LENGTH, STATEMENT_MIN_LENGTH
from workshops.models import Function, FunctionalArea, FunctionalDomain

FILE_TOO_LARGE = "The file is larger than {limit} KB."
ENTRY_GONE = "that entry is no longer in the taxonomy: reload the page and choose again."
NO_ACTION = "choose one of the toolbar's actions."


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


class BulkReviewForm(forms.Form):
    """The review toolbar: the selected statements (``ids``, row checkboxes outside the form
    element), the action and what it needs. The services refuse what is missing, with a message."""

    ACTIONS = [
        ("accept", "Accept"),
        ("reject", "Reject"),
        ("classify", "Classify"),
        ("suggested", "Apply suggested classification"),
        ("partners", "Assign partners"),
    ]
    ADD, REPLACE = "add", "replace"

    action = forms.ChoiceField(choices=ACTIONS, error_messages={"required": NO_ACTION, "invalid_choice": NO_ACTION})
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One reason for all the selected statements, shown to the workshop.",
        required=False,
    )
    classification = forms.ChoiceField(
        label="Classification",
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm mw-100"}),
        error_messages={"invalid_choice": ENTRY_GONE},
    )
    partners = forms.ModelMultipleChoiceField(
        label="Supply-chain partners",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    partner_mode = forms.ChoiceField(
        label="How",
        choices=[(ADD, "Add to each statement's partners"), (REPLACE, "Replace each statement's partners")],
        initial=ADD,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": NO_ACTION},
    )

    def __init__(self, *args, cycle, classification_choices, **kwargs):
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = cycle.partners.all()
        self.fields["classification"].choices = [("", "—"), *classification_choices]

    def selected_ids(self) -> list[int]:
        return [int(value) for value in self.data.getlist("ids") if value.isdigit()]

    def clean_classification(self) -> dict:
        """The picked entry as the services' keyword arguments: ``{"area": <FunctionalArea>}`` etc."""
        kind, _, pk = (self.cleaned_data.get("classification") or "").partition(":")
        model = {"function": Function, "domain": FunctionalDomain, "area": FunctionalArea}.get(kind)
        if model is None:
            return {}
        entry = model.objects.filter(pk=pk).first()
        if entry is None:
            raise forms.ValidationError(ENTRY_GONE)
        return {kind: entry}

    def suggestions(self) -> dict[int, tuple[int | None, int | None, int | None]]:
        """The suggested classifications the page showed, by statement: ``suggested-<id>`` fields
        holding ``function:domain:area`` ids."""
        out = {}
        for key in self.data:
            name, _, pk = key.partition("-")
            if name != "suggested" or not pk.isdigit():
                continue
            parts = (self.data.get(key) or "").split(":")
            if len(parts) == 3 and all(part == "" or part.isdigit() for part in parts):
                out[int(pk)] = tuple(int(part) if part else None for part in parts)
        return out

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from core.forms import BootstrapMixin
from matching import selectors, services
from matching.importers import uploads
from matching.models import Framework, FrameworkVersion, MatchReview


class MatchRunForm(BootstrapMixin, forms.Form):
    framework_version = forms.ModelChoiceField(
        queryset=FrameworkVersion.objects.select_related("framework").order_by("framework__kind", "-imported_at"),
        label="Reference framework version",
        empty_label=None,
        help_text="Preset to the framework of this cycle's last run (Skills England/IfATE for a first run), "
        "at its newest version.",
    )
    threshold = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        initial=services.DEFAULT_THRESHOLD,
        label="Match threshold",
        help_text="A statement matches a capability when their similarity reaches this score (0–1).",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    level_window = forms.IntegerField(
        min_value=0,
        max_value=5,
        initial=services.DEFAULT_LEVEL_WINDOW,
        label="Level window (± academic levels)",
        help_text="A level-6 role with a window of 1 is compared with standards at levels 5–7. "
        "Frameworks without levels (O*NET, ESCO) ignore it.",
    )
    top_k = forms.IntegerField(
        min_value=1, max_value=50, initial=services.DEFAULT_TOP_K, label="Matches kept per capability"
    )

    def __init__(self, *args, cycle, **kwargs):
        super().__init__(*args, **kwargs)
        default = selectors.default_framework_version(cycle)
        if default is not None and not self.is_bound:
            self.initial.setdefault("framework_version", default.pk)


class ThresholdForm(BootstrapMixin, forms.Form):
    threshold = forms.FloatField(
        min_value=0.0, max_value=1.0, label="Threshold", widget=forms.NumberInput(attrs={"step": "0.01"})
    )


class ReviewForm(forms.Form):
    capability = forms.IntegerField(widget=forms.HiddenInput)
    statement = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[*MatchReview.Decision.choices, ("clear", "Clear the decision")])
    note = forms.CharField(required=False, max_length=1000)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern): cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        return [one(d, initial) for d in data] if isinstance(data, list | tuple) else [one(data, initial)]


class FrameworkImportForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(choices=Framework.Kind.choices, label="Framework")
    files = MultipleFileField(label="Files", help_text="Choose several files at once where the framework has several.")
    label = forms.CharField(
        required=False,
        max_length=100,
        label="Version label (optional)",
        help_text="e.g. “standards 2026-11”; blank: taken from the files (O*NET and ESCO name their release).",
    )

    def clean(self):
        cleaned = super().clean()
        files, kind = cleaned.get("files"), cleaned.get("kind")
        if not files or not kind:
            return cleaned
        limit = settings.FRAMEWORK_UPLOAD_MAX_BYTES
        if sum(f.size for f in files) > limit:
            self.add_error("files", f"The files come to more than {filesizeformat(limit)}, the most one import takes.")
        problem = uploads.check(kind, [f.name for f in files])
        if problem:
            self.add_error("files", problem)
        return cleaned

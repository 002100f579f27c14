from django import forms

from core.forms import BootstrapMixin
from matching import selectors, services
from matching.models import FrameworkVersion, MatchReview


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

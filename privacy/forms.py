from __future__ import annotations

from django import forms

from core.forms import BootstrapMixin

MAX_RETENTION_DAYS = 3650


class RetentionForm(BootstrapMixin, forms.Form):
    days = forms.IntegerField(
        label="Keep personal data for (days after the cycle closes)",
        required=False,
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        help_text="Empty: kept until someone erases it. The cycle closes when the end of Cause action is recorded on the timeline.",
    )

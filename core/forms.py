"""Form helpers shared by every app: Bootstrap classes on widgets and service errors on fields.

Render a whole form with ``{{ form }}`` (templates/forms/div.html) or one field with
``{{ form.field.as_field_group }}`` (templates/forms/field.html): label, control, help and errors,
all linked for screen readers.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Project-wide form templates (settings.FORM_RENDERER)."""

    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"


def _css_for(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "form-check-input"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    if isinstance(widget, forms.FileInput):
        return "form-control"
    return "form-control"


class BootstrapMixin:
    """Adds Bootstrap's classes to every widget (and ``is-invalid`` to fields with errors)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            wanted = _css_for(field.widget)
            if wanted not in css.split():
                field.widget.attrs["class"] = f"{css} {wanted}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors on their fields, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def autofocus_next(form: forms.BaseForm, *, away_from: tuple[forms.BaseForm, ...] = ()) -> None:
    """Put the page's one ``autofocus`` on the field the person fills next: the first with an error,
    else the first still empty (a name the inviter typed is filled in, so the password is next).
    ``away_from``: other forms of the page, whose autofocus (Django's login form has one) goes."""
    for other in (form, *away_from):
        for field in other.fields.values():
            field.widget.attrs.pop("autofocus", None)
    names = [name for name, field in form.fields.items() if not field.widget.is_hidden and not field.disabled]
    target = next((n for n in names if n in form.errors), None)
    if target is None:
        target = next((n for n in names if form[n].value() in (None, "")), None)
    if target is not None:
        form.fields[target].widget.attrs["autofocus"] = True

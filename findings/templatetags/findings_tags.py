"""Template helpers for the findings pages: cell text, sort links and URLs that work for members and share links."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from findings.report_text import render_markdown

register = template.Library()


@register.filter
def cell(row: dict, column) -> str:
    return column.text(row)


#: Bootstrap's classes for a column left out below the md breakpoint (768 px).
NOT_ON_A_PHONE = "d-none d-md-table-cell"


def _column_classes(column) -> list[str]:
    """What every cell of a column shares, its header too: whether a phone shows it, its alignment."""
    return ([] if column.phone else [NOT_ON_A_PHONE]) + (["text-end"] if column.numeric else [])


@register.filter
def header_class(column) -> str:
    return " ".join(_column_classes(column))


@register.filter
def cell_class(row: dict, column) -> str:
    classes = _column_classes(column)
    value = row.get(column.key)
    if column.key.startswith("prof_") and column.kind == "int" and value:
        classes.append(f"prof-{value} text-center")
    if column.kind == "bool":
        classes.append("text-center")
        if value:
            classes.append("cell-yes")
    if isinstance(value, str) and column.key.startswith("s") and column.key[1:].isdigit():
        classes.append("cell-yes" if value.startswith("Matched") else "cell-no")
    return " ".join(classes)


@register.simple_tag(takes_context=True)
def furl(context, name: str, *args) -> str:
    """A findings URL for the page being viewed: through the share link when there is one."""
    token = context.get("share_token")
    if token:
        return reverse(f"findings:shared_{name}", args=[token, *args])
    return reverse(f"findings:{name}", args=[context["cycle"].slug, *args])


@register.simple_tag(takes_context=True)
def sort_query(context, key: str) -> str:
    """The query string that sorts by ``key`` (toggling the direction when it already does)."""
    params = context["request"].GET.copy()
    descending = params.get("sort") == key and params.get("dir") != "desc"
    params["sort"] = key
    params["dir"] = "desc" if descending else "asc"
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def sort_state(context, key: str) -> str:
    params = context["request"].GET
    if params.get("sort") != key:
        return "none"
    return "descending" if params.get("dir") == "desc" else "ascending"


@register.simple_tag(takes_context=True)
def current_query(context, **overrides) -> str:
    params = context["request"].GET.copy()
    for name, value in overrides.items():
        params[name] = value
    encoded = params.urlencode()
    return "?" + encoded if encoded else ""


@register.filter
def markdown(text: str) -> str:
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - markdown-it runs with raw HTML disabled


@register.filter
def join_list(values) -> str:
    return format_html_join("", "<li>{}</li>", ((v,) for v in values or []))


@register.filter
def dict_get(mapping, key):
    return mapping.get(key) if mapping else None

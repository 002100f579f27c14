"""Display filters of the matching pages."""

from __future__ import annotations

from django import template

from matching import selectors

register = template.Library()


@register.filter
def level_range(window, version) -> str:
    """``"levels 2–7"`` (or ``"level 3"``): a stored level window as the levels really compared
    (see ``selectors.shown_window``); empty when there is no window (every level is compared)."""
    shown = selectors.shown_window(version, window)
    if shown is None:
        return ""
    return _levels(*shown)


@register.filter
def level_span(version) -> str:
    """The academic levels of a framework version's standards, ``"levels 2–7"``; empty without levels."""
    span = selectors.level_span(version)
    if span is None:
        return ""
    return _levels(*span)


def _levels(low: int, high: int) -> str:
    return f"level {low}" if low == high else f"levels {low}–{high}"

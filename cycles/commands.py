"""Helpers for every app's management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from cycles.models import Cycle


def cycle_or_command_error(slug: str) -> Cycle:
    """The cycle with ``slug``, or a CommandError that names the slug (the command changes nothing)."""
    cycle = Cycle.objects.filter(slug=slug).first()
    if cycle is None:
        raise CommandError(f"No cycle with the slug '{slug}'.")
    return cycle

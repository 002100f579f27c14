"""Sections that higher apps add to everyone's profile page.

accounts is the lowest app and knows nothing of cycles: an app that has something to show a person
about themselves (their cycles and roles, say) registers a section from its ``AppConfig.ready``
with the template that renders it and a function that reads its context for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProfileSection:
    key: str
    template: str
    context: Callable[[Any], dict[str, Any]]  # (user) -> the section's context


SECTIONS: list[ProfileSection] = []


def register_profile_section(section: ProfileSection) -> None:
    """Add a section to the profile page (idempotent by key)."""
    if all(existing.key != section.key for existing in SECTIONS):
        SECTIONS.append(section)


def profile_sections(user) -> list[dict[str, Any]]:
    """The registered sections, each with its context read for ``user``."""
    return [{"template": s.template, "context": s.context(user)} for s in SECTIONS]

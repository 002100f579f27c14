"""Hooks through which the higher ``matching`` app serves FOP and KSB pages.

Dependencies point one way (workshops ← matching), so workshops never imports matching: it asks
for a provider by name, resolved lazily from a dotted path. A missing provider (matching not
installed, or a part of it not built yet) returns None and the page shows the section as
unavailable rather than failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

PROVIDERS: dict[str, list[str]] = {
    # (levels: list[RoleLevelNeeds], params: ProposalParameters) -> list[ProposedProfile]
    "propose_profiles": ["matching.proposals.propose_profiles"],
    # (statement: str, kind: "K"|"S"|"B", existing: list[(tag_id, name, uses)], k: int) -> list[dict]
    "suggest_tags": ["matching.suggestions.suggest_tags"],
    # (tags: list[(tag_id, name)], threshold: float) -> list[(id_a, id_b, score)]
    "similar_tag_pairs": ["matching.suggestions.similar_tag_pairs"],
    # (capability_ids: list[int]) -> {capability_id: [ {standard_ref, standard_title, text, score, review}, ... ]}
    "best_matches": ["matching.proposals.best_matches_for_capabilities"],
}

_overrides: dict[str, Callable | None] = {}


def get(name: str) -> Callable | None:
    if name in _overrides:
        return _overrides[name]
    for path in PROVIDERS.get(name, []):
        try:
            return import_string(path)
        except ImportError:
            logger.debug("Provider %s not available at %s", name, path)
    return None


def override(name: str, func: Callable | None) -> None:
    """Replace a provider (tests that need a provider to be absent)."""
    _overrides[name] = func


def reset() -> None:
    _overrides.clear()

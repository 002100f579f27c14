"""Hooks through which the higher ``matching`` app serves the FOP, KSB and capture pages.

Dependencies point one way (workshops ← matching), so workshops never imports matching, not even
by a dotted string: matching registers its functions here from ``MatchingConfig.ready``. A
provider nobody registered returns None and the page shows the section as unavailable.

The hooks and what each takes and returns:

``propose_profiles``  (levels, params, progress=None) -> list[ProposedProfile]; progress(what, done, total)
``suggest_tags``      (statement: str, kind: "K"|"S"|"B", existing: list[(tag_id, name, uses)], k: int) -> list[dict]
``similar_tag_pairs`` (tags: list[(tag_id, name)], threshold: float) -> list[(id_a, id_b, score)]
``warm_up``           () -> bool  queue the worker's embedding of the frameworks (at most every ten minutes),
                      for a page whose provider raised ``core.readiness.NotReady``
``best_matches``      (capability_ids: list[int]) -> {capability_id: [{standard_ref, standard_title, text, score,
                      review}, ...]}
``similar_statements`` (cycle_id: int, text: str, limit: int) -> {method, threshold, compared, took_ms,
                      matches: [{id, ref, statement, score}, ...]}  (duplicates at the door; never loads the model)
``suggest_classifications`` (statements: list[(capability_id, text)]) -> {method, took_ms, suggestions:
                      {capability_id: {function, domain, area, confidence, basis, neighbours}}}  (ids; never
                      loads the model)
"""

from __future__ import annotations

from collections.abc import Callable

HOOKS = (
    "propose_profiles",
    "suggest_tags",
    "warm_up",
    "similar_tag_pairs",
    "best_matches",
    "similar_statements",
    "suggest_classifications",
)

_registered: dict[str, Callable] = {}
_overrides: dict[str, Callable | None] = {}


def register(name: str, func: Callable) -> None:
    """Serve the hook ``name`` with ``func`` (called from the providing app's ``AppConfig.ready``)."""
    if name not in HOOKS:
        raise ValueError(f"Unknown FOP provider hook {name!r}: one of {', '.join(HOOKS)}")
    _registered[name] = func


def get(name: str) -> Callable | None:
    """The function serving ``name``, or None when no app provides it."""
    if name in _overrides:
        return _overrides[name]
    return _registered.get(name)


def override(name: str, func: Callable | None) -> None:
    """Replace a provider (tests that need a provider to be absent or smaller)."""
    _overrides[name] = func


def reset() -> None:
    _overrides.clear()

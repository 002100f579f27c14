"""The current-state proxy of the functions page: today's standards' duties classified to functions.

A duty statement has no function of its own. Each duty of the chosen standards takes the function
of the cycle's classified capability nearest to it by sentence embedding (cosine similarity of the
stored, normalised vectors), so "current" and "future" are counted on the same taxonomy. Only
vectors already in the embedding store are used (a match run stores every capability's and
duty's vector), so a page view never loads the model.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

import numpy as np

from findings.tables.base import Filter, Params

DEFAULT_STANDARDS = 10
MAX_CHOICES = 60
_cache: OrderedDict[tuple, Counter] = OrderedDict()
_CACHE_MAX = 64


def standard_choices(match, data) -> list[tuple[int, str, int]]:
    """(standard id, label, capabilities it best-matches) for the standards the cycle touches."""
    counts: Counter = Counter()
    labels: dict[int, str] = {}
    for cap in data.capabilities:
        best = match.best_match(cap.id)
        if best is not None:
            counts[best.standard.id] += 1
            labels[best.standard.id] = best.standard.label
    ranked = sorted(counts.items(), key=lambda item: (-item[1], labels[item[0]]))[:MAX_CHOICES]
    return [(sid, labels[sid], n) for sid, n in ranked]


def classify_duties(duties: list[tuple[str, str]], anchors: list[tuple[str, str, str]]) -> Counter:
    """Count duties per function: each duty (hash, text) takes the function of its nearest anchor
    capability (hash, text, function). Duties or anchors without a stored vector are skipped."""
    from matching import embeddings

    vectors = embeddings.stored_vectors({h for h, _ in duties} | {h for h, _t, _f in anchors})
    anchors = [(h, f) for h, _t, f in anchors if h in vectors]
    duty_hashes = [h for h, _ in duties if h in vectors]
    if not anchors or not duty_hashes:
        return Counter()
    anchor_matrix = np.stack([vectors[h] for h, _ in anchors])
    duty_matrix = np.stack([vectors[h] for h in duty_hashes])
    nearest = np.argmax(duty_matrix @ anchor_matrix.T, axis=1)
    return Counter(anchors[i][1] for i in nearest)


def current_state_by_function(match, params: Params, data) -> tuple[Filter, Counter]:
    from matching import embeddings
    from matching.models import Statement
    from matching.scoring import MATCH_KINDS

    choices = standard_choices(match, data)
    valid = {str(sid) for sid, _label, _n in choices}
    chosen = [v for v in params.get_list("standard") if v in valid] or [
        str(sid) for sid, _l, _n in choices[:DEFAULT_STANDARDS]
    ]
    filt = Filter(
        "standard",
        "Current standards (current-state proxy)",
        "multi",
        [(str(sid), f"{label} · best match of {n}") for sid, label, n in choices],
        chosen,
        help="Default: the standards that best match most capabilities.",
    )
    anchors = [(embeddings.text_hash(c.statement), c.statement, c.function) for c in data.capabilities if c.function]
    key = (match.run.pk, tuple(sorted(chosen)), tuple(sorted((h, f) for h, _t, f in anchors)))
    if key in _cache:
        _cache.move_to_end(key)
        return filt, _cache[key]
    kinds = MATCH_KINDS.get(match.run.framework_version.framework.kind) or [Statement.Kind.DUTY]
    duties = list(
        Statement.objects.filter(standard_id__in=[int(v) for v in chosen], kind__in=kinds).values_list(
            "text_hash", "text"
        )
    )
    counts = classify_duties(duties, anchors)
    _cache[key] = counts
    while len(_cache) > _CACHE_MAX:
        _cache.popitem(last=False)
    return filt, counts

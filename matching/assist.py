"""The capture screens' assists that never keep a request waiting.

- ``similar_statements(cycle_id, text)``: duplicates at the door — the cycle's submitted and
  accepted statements that say nearly what a technologist is typing.
- ``suggest_classifications(statements)``: Function › Domain › Area for each statement on the
  review screen, voted by the nearest classified capabilities of any cycle, or, with none near,
  the closest entry of the taxonomy by its names.

Each answers by meaning (the embedding model) when it can at once: the model is already loaded
in this process, and every vector it needs is in memory or in the store, or is one of at most
``ENCODE_BUDGET`` texts it has never seen (a statement submitted since; a few milliseconds each).
Otherwise it answers by wording (``matching/lexical.py``) and says so (``method``). A request
never loads the model and never embeds a whole cycle; statements not yet embedded are embedded
``ENCODE_BUDGET`` at a time by the requests that meet them, so a process with the model loaded
soon answers by meaning.

Thresholds, measured on the point-of-care cycle's 54 published statements (report 2), which
hold two duplicate pairs the report itself counts (C04/C06, C16/C47; "78 unique of 80"), 20
drafts re-wording published statements and 15 new statements of the same field:

==============  =========  ==================  ======================  ==========================
method          threshold  re-worded drafts    distinct published      new statements flagged
                           flagged (typed)     flagged (closest other)
==============  =========  ==================  ======================  ==========================
embedding       0.75       17/20, 60 % typed   2/54 (C03~C07 0.78)     0/15 (highest 0.70)
wording         0.55       20/20, 57 % typed   0/54 (highest 0.50)     0/15 (highest 0.41)
==============  =========  ==================  ======================  ==========================

The two published duplicate pairs score 0.96–0.97 by meaning and 0.88 by wording. Below 0.75 by
meaning, distinct but related statements of the report start to be flagged (0.70: 6 of 54); the
library's 0.85 misses as many re-wordings as 0.75 (``matching.library.DUPLICATE_THRESHOLD``).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, defaultdict
from collections.abc import Sequence

import numpy as np

from matching import embeddings
from matching.lexical import LexicalIndex
from workshops.models import Capability, FunctionalArea, FunctionalDomain

EMBEDDING, LEXICAL = "embedding", "lexical"
DUPLICATE_THRESHOLD = {EMBEDDING: 0.75, LEXICAL: 0.55}
# Shorter drafts match anything that shares a word.
MIN_DRAFT_LENGTH = 12
LIVE_STATUSES = [Capability.Status.SUBMITTED, Capability.Status.ACCEPTED]
# New texts one request may embed when the model is loaded (about 5 ms each on two cores).
ENCODE_BUDGET = 8
CLASSIFY_NEIGHBOURS = 7
# A neighbour counts when at least this similar; with no neighbour, the taxonomy's closest entry
# is offered when at least this similar (its names are short, so wording scores run lower).
NEIGHBOUR_MIN = {EMBEDDING: 0.45, LEXICAL: 0.25}
TAXONOMY_MIN = {EMBEDDING: 0.45, LEXICAL: 0.25}
# A domain (area) is named only when it holds at least this share of its function's (domain's) votes.
MAJORITY = 0.5

_VECTORS_MAX = 20_000
_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
_lexical: dict[str, tuple[str, LexicalIndex]] = {}


def forget() -> None:
    _vectors.clear()
    _lexical.clear()


def _remember(key: str, vector: np.ndarray) -> None:
    _vectors[key] = vector
    while len(_vectors) > _VECTORS_MAX:
        _vectors.pop(next(iter(_vectors)), None)


def _vectors_at_once(texts: Sequence[str]) -> np.ndarray | None:
    """Unit vectors for ``texts`` if they can be had without waiting, else None (answer by wording)."""
    if not embeddings.model_loaded():
        return None
    hashes = [embeddings.text_hash(text) for text in texts]
    # A local copy: another request may evict from the shared cache while this one reads it.
    found = {key: _vectors[key] for key in dict.fromkeys(hashes) if key in _vectors}
    missing = [key for key in dict.fromkeys(hashes) if key not in found]
    if missing:
        found.update(embeddings.stored_vectors(missing))
        unseen = [key for key in missing if key not in found]
        if unseen:
            by_hash = dict(zip(hashes, texts, strict=True))
            batch = unseen[:ENCODE_BUDGET]
            found.update(zip(batch, embeddings.encode([by_hash[key] for key in batch]), strict=True))
        for key in missing:
            if key in found:
                _remember(key, found[key])
        if len(unseen) > ENCODE_BUDGET:
            return None
    if not hashes:
        return np.zeros((0, embeddings.DIM), dtype=np.float32)
    return np.stack([found[key] for key in hashes])


def _lexical_index(name: str, texts: Sequence[str], background: Sequence[str] = ()) -> LexicalIndex:
    signature = hashlib.sha256("\n".join([*texts, "", *background]).encode("utf-8")).hexdigest()
    cached = _lexical.get(name)
    if cached is not None and cached[0] == signature:
        return cached[1]
    index = LexicalIndex(texts, background)
    if len(_lexical) > 64:
        _lexical.clear()
    _lexical[name] = (signature, index)
    return index


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


# --- duplicates at the door ---------------------------------------------------------------------


def similar_statements(cycle_id: int, text: str, *, limit: int = 3) -> dict:
    """The cycle's submitted and accepted statements that say nearly what ``text`` says.

    Returns ``{"method", "threshold", "compared", "took_ms", "matches": [{"id", "ref",
    "statement", "score"}, ...]}``, best first; ``method`` is None when the text is too short to
    compare.
    """
    started = time.perf_counter()
    text = embeddings.normalise(text)
    answer = {"method": None, "threshold": None, "compared": 0, "took_ms": 0.0, "matches": []}
    if len(text) < MIN_DRAFT_LENGTH:
        return answer
    rows = list(
        Capability.objects.filter(cycle_id=cycle_id, status__in=LIVE_STATUSES)
        .order_by("id")
        .values_list("id", "ref", "statement")
    )
    statements = [statement for _, _, statement in rows]
    vectors = _vectors_at_once(statements) if rows else None
    if vectors is not None:
        method = EMBEDDING
        scores = vectors @ embeddings.encode_unstored([text])[0]
    else:
        method = LEXICAL
        scores = _lexical_index(f"cycle:{cycle_id}", statements).scores([text])[0] if rows else np.zeros(0)
    threshold = DUPLICATE_THRESHOLD[method]
    matches = []
    for i in np.argsort(-scores, kind="stable")[:limit]:
        score = float(embeddings.clip_score(scores[i]))
        if score >= threshold:
            pk, ref, statement = rows[i]
            matches.append({"id": pk, "ref": ref, "statement": statement, "score": round(score, 4)})
    answer.update(method=method, threshold=threshold, compared=len(rows), matches=matches)
    answer["took_ms"] = _elapsed_ms(started)
    return answer


# --- suggested classification -------------------------------------------------------------------


def _classified() -> list[tuple[int, str, int, int | None, int | None]]:
    return list(
        Capability.objects.filter(function__isnull=False)
        .exclude(status__in=[Capability.Status.REJECTED, Capability.Status.MERGED])
        .order_by("id")
        .values_list("id", "statement", "function_id", "domain_id", "area_id")
    )


def _taxonomy_entries() -> list[tuple[str, int, int, int | None]]:
    """(text, function, domain, area) for every area, and for every domain without areas."""
    entries = [
        (f"{name} ({domain})", function_id, domain_id, pk)
        for pk, name, domain_id, domain, function_id in FunctionalArea.objects.order_by("id").values_list(
            "id", "name", "domain_id", "domain__name", "domain__function_id"
        )
    ]
    entries += [
        (name, function_id, pk, None)
        for pk, name, function_id in FunctionalDomain.objects.filter(areas__isnull=True)
        .order_by("id")
        .values_list("id", "name", "function_id")
    ]
    return entries


def _vote(neighbours: list[tuple[float, int, int | None, int | None]]) -> dict:
    """Function by score-weighted vote; its domain and area only where most of the votes agree."""
    by_function: dict[int, float] = defaultdict(float)
    for score, function, _, _ in neighbours:
        by_function[function] += score
    function = max(by_function, key=lambda key: (by_function[key], -key))
    domain = area = None
    by_domain: dict[int, float] = defaultdict(float)
    for score, f, d, _ in neighbours:
        if f == function and d is not None:
            by_domain[d] += score
    if by_domain:
        best = max(by_domain, key=lambda key: (by_domain[key], -key))
        if by_domain[best] >= MAJORITY * by_function[function]:
            domain = best
            by_area: dict[int, float] = defaultdict(float)
            for score, _, d, a in neighbours:
                if d == domain and a is not None:
                    by_area[a] += score
            if by_area:
                best = max(by_area, key=lambda key: (by_area[key], -key))
                if by_area[best] >= MAJORITY * by_domain[domain]:
                    area = best
    return {
        "function": function,
        "domain": domain,
        "area": area,
        "confidence": round(by_function[function] / sum(by_function.values()), 4),
        "basis": "neighbours",
        "neighbours": len(neighbours),
    }


def suggest_classifications(statements: Sequence[tuple[int, str]]) -> dict:
    """A suggested classification for each ``(capability id, statement)``.

    Returns ``{"method", "took_ms", "suggestions": {id: {"function", "domain", "area" (ids or
    None), "confidence", "basis" ("neighbours" or "taxonomy"), "neighbours"}}}``; a statement
    nothing is near enough to is absent.
    """
    started = time.perf_counter()
    statements = list(statements)
    answer = {"method": None, "took_ms": 0.0, "suggestions": {}}
    if not statements:
        return answer
    classified = _classified()
    taxonomy = _taxonomy_entries()
    references = [row[1] for row in classified] + [entry[0] for entry in taxonomy]
    queries = [embeddings.normalise(text) for _, text in statements]
    vectors = _vectors_at_once(queries + references) if references else None
    if vectors is not None:
        method = EMBEDDING
        scores = vectors[: len(queries)] @ vectors[len(queries) :].T
    else:
        method = LEXICAL
        scores = (
            _lexical_index("classify", references, background=queries).scores(queries)
            if references
            else np.zeros((len(queries), 0))
        )
    n = len(classified)
    suggestions = {}
    for row, (pk, _) in enumerate(statements):
        near = [
            (float(scores[row, j]), *classified[j][2:])
            for j in np.argsort(-scores[row, :n], kind="stable")[: CLASSIFY_NEIGHBOURS + 1]
            if scores[row, j] >= NEIGHBOUR_MIN[method] and classified[j][0] != pk
        ][:CLASSIFY_NEIGHBOURS]
        if near:
            suggestions[pk] = _vote(near)
        elif len(taxonomy):
            j = int(np.argmax(scores[row, n:]))
            score = float(scores[row, n + j])
            if score >= TAXONOMY_MIN[method]:
                _, function, domain, area = taxonomy[j]
                suggestions[pk] = {
                    "function": function,
                    "domain": domain,
                    "area": area,
                    "confidence": round(score, 4),
                    "basis": "taxonomy",
                    "neighbours": 0,
                }
    answer.update(method=method, suggestions=suggestions)
    answer["took_ms"] = _elapsed_ms(started)
    return answer

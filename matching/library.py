"""The capability library and the assists on the capture page.

- ``library_search(cycle, q, k)``: semantic search-as-you-type over O*NET tasks, ESCO skills and
  knowledge, and the capabilities of every other cycle (the cross-cycle data cube). The reference
  part is one in-memory matrix per process, rebuilt only when a framework version changes; the
  other cycles' capabilities are a small second matrix rebuilt when they change. The cycle's
  accent is not discounted here (``ACCENT_DISCOUNT``: measured against KSB suggestions' discount
  and not adopted, as it costs the library's DWA-sibling figures).
- ``near_duplicates(cycle, text)``: the cycle's own capabilities that say nearly the same thing.
- ``suggest_classification(text)``: Function › Domain › Area voted by the nearest classified
  capabilities of any cycle.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max

from cycles.models import Cycle
from matching import embeddings, ranking
from matching.embeddings import Corpus, CorpusItem
from workshops.models import Capability

REFERENCE_CORPORA = ("onet:tasks", "esco:all_skills")
SOURCE_LABELS = {"onet:tasks": "O*NET task", "esco:all_skills": "ESCO skill", "cycle": "Earlier cycle"}
DUPLICATE_THRESHOLD = 0.85
CLASSIFY_NEIGHBOURS = 7
CLASSIFY_MIN_SCORE = 0.35
MIN_QUERY_LENGTH = 3
LIVE_STATUSES = [Capability.Status.SUBMITTED, Capability.Status.ACCEPTED]
# The cycle's accent in library search (issue 14): measured, not adopted (bench/matching_quality.py
# §6, docs/benchmarks.md). KSB suggestions' discount at 0.5 lifts the library's accent cases
# (tests/matching/data/library_cycle_accent.json: MRR@10 0.194 → 0.301, @5 24 % → 35 %) but costs
# DWA siblings searched inside a cycle (R@1 0.279 → 0.255 in a mixed cycle, R@10 0.618 → 0.564 in
# the occupation's). 0: the search keeps the accent; ``accent_discount=`` asks for the discount.
ACCENT_DISCOUNT = 0.0
# Measured too: the accent taken beyond the library's own mean vector (``reference_centre``). It
# harms less (R@1 0.273 and 0.268 at 0.5; 0.276 and 0.278 at 0.25) but still harms R@5/R@10, and on
# a small library its mean is the cycle's own domain. Off: a discount, asked for, is KSB's own.
ACCENT_CENTRED = False


@dataclass(frozen=True)
class LibraryHit:
    source: str  # "onet:tasks", "esco:all_skills" or "cycle"
    text: str
    ref: str
    context: str  # occupation title, skill type, or the cycle's title
    score: float

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "source_label": self.source_label,
            "text": self.text,
            "ref": self.ref,
            "context": self.context,
            "score": round(self.score, 4),
        }


_lock = threading.Lock()
_reference: dict[str, object] = {}
_capability_corpora: dict[str, Corpus] = {}


# Imports are rare: while typing, the framework versions are re-checked at most this often.
RECHECK_SECONDS = 5.0


def reference_matrix() -> tuple[np.ndarray, list[tuple[str, CorpusItem]]]:
    """O*NET tasks and ESCO skills stacked into one matrix (cached per process)."""
    now = time.monotonic()
    if "vectors" in _reference and now - _reference.get("checked", 0.0) < RECHECK_SECONDS:
        return _reference["vectors"], _reference["items"]
    corpora = [embeddings.get_corpus(key) for key in REFERENCE_CORPORA if _is_available(key)]
    signature = tuple((c.key, c.signature) for c in corpora)
    if _reference.get("signature") != signature:
        with _lock, embeddings.bulk_load():
            if _reference.get("signature") != signature:
                vectors = [c.vectors for c in corpora if len(c)]
                _reference["vectors"] = np.vstack(vectors) if vectors else np.zeros((0, embeddings.DIM), np.float32)
                # The second stage (matching/ranking.py): each corpus's hub term among itself.
                _reference["ranking"] = ranking.stack([ranking.for_corpus(c) for c in corpora if len(c)])
                _reference["items"] = [(c.key, item) for c in corpora for item in c.items]
                stacked = _reference["vectors"]
                _reference["mean"] = stacked.mean(axis=0) if len(stacked) else None
                _reference["signature"] = signature
    _reference["checked"] = now
    return _reference["vectors"], _reference["items"]


def reference_ranking() -> ranking.Candidates:
    reference_matrix()
    return _reference["ranking"]


def _is_available(key: str) -> bool:
    """A reference corpus takes part once its framework version has been embedded (embedding
    O*NET or ESCO from scratch takes minutes, never inside a keystroke's request)."""
    from matching.corpora import latest_version

    version = latest_version(key.split(":")[0])
    return version is not None and version.embedded_at is not None


def missing_reference_corpora() -> list[str]:
    return [SOURCE_LABELS[key] for key in REFERENCE_CORPORA if not _is_available(key)]


def reference_corpora_pending() -> bool:
    """Whether a reference corpus's framework is imported but not embedded yet (the worker's
    warm-up is on it), as opposed to not imported at all."""
    from matching.corpora import latest_version

    for key in REFERENCE_CORPORA:
        version = latest_version(key.split(":")[0])
        if version is not None and version.embedded_at is None:
            return True
    return False


def _capability_corpus(key: str, queryset) -> Corpus:
    state = queryset.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    signature = (state["n"], state["last"], state["top"])
    cached = _capability_corpora.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    rows = list(queryset.order_by("id").values_list("id", "statement", "ref", "cycle__title"))
    items = [CorpusItem(id=pk, text=text, ref=ref, kind="capability", label=title) for pk, text, ref, title in rows]
    vectors = embeddings.encode([i.text for i in items]) if items else np.zeros((0, embeddings.DIM), np.float32)
    corpus = Corpus(key=key, signature=signature, items=items, vectors=vectors)
    with _lock:
        if len(_capability_corpora) > 64:
            _capability_corpora.clear()
        _capability_corpora[key] = corpus
    return corpus


def forget() -> None:
    ranking.forget()
    _reference.clear()
    _capability_corpora.clear()


def _query_vector(q: str) -> np.ndarray:
    # A request: NotReady (and the model loading in the background) rather than wait for it.
    embeddings.require_model()
    return embeddings.encode([q])[0]


def accent_corpus(cycle: Cycle) -> Corpus:
    """The statements whose shared accent a search inside ``cycle`` discounts, with their vectors:
    the context KSB suggestions use too (``workshops.tags.selectors.accent_context``), cached like
    the other capability matrices."""
    from workshops.tags.selectors import accent_context  # noqa: PLC0415 - the one choice of context

    return _capability_corpus(f"accent:{cycle.pk}", accent_context(cycle.pk))


def without_cycle_accent(cycle: Cycle, q: str, vector: np.ndarray, weight: float | None = None) -> np.ndarray:
    """``vector`` (of ``q``) less ``weight`` (default ``ACCENT_DISCOUNT``) of the accent of the
    cycle's other statements (``q`` itself, when it is one of them, left out), so that what every
    statement of the cycle says ("food", "aircraft") no longer leads the search and the
    capability's own meaning does (issue 14). Unchanged at weight 0 (the default: measured and not
    adopted, see ``ACCENT_DISCOUNT``) or for a cycle of fewer than ``ranking.ACCENT_MIN_CONTEXT``."""
    weight = ACCENT_DISCOUNT if weight is None else weight
    if weight <= 0:
        return vector
    corpus = accent_corpus(cycle)
    rows = [i for i, item in enumerate(corpus.items) if item.text.strip() != q]
    if len(rows) < ranking.ACCENT_MIN_CONTEXT:
        return vector
    centre = reference_centre() if ACCENT_CENTRED else None
    return ranking.without_accent(vector, corpus.vectors[rows], weight, centre)


def reference_centre() -> np.ndarray | None:
    """The mean vector of the library's O*NET and ESCO statements: the direction every statement
    of the embedding space leans to, whatever its domain."""
    reference_matrix()
    return _reference.get("mean")


def library_search(
    cycle: Cycle, q: str, k: int = 10, *, accent_discount: float | None = None
) -> tuple[list[LibraryHit], float]:
    """The k nearest library statements to ``q`` and the server time in milliseconds. The query's
    vector goes through ``without_cycle_accent`` at ``accent_discount`` (default
    ``ACCENT_DISCOUNT``: 0, measured and not adopted)."""
    started = time.perf_counter()
    q = (q or "").strip()
    if len(q) < MIN_QUERY_LENGTH:
        return [], 0.0
    vector = without_cycle_accent(cycle, q, _query_vector(q), accent_discount)
    reference, items = reference_matrix()
    others = _capability_corpus(
        f"others:{cycle.pk}",
        Capability.objects.exclude(cycle=cycle).filter(status__in=LIVE_STATUSES),
    )
    hits: list[LibraryHit] = []
    if len(reference):
        # The adopted ranking (matching/ranking.py): cosine candidates, re-scored by the second stage.
        indices, scores = ranking.search(vector[None, :], reference_ranking(), k)
        for i, s in zip(indices[0], scores[0], strict=True):
            key, item = items[i]
            context = item.label if key == "onet:tasks" else item.extra.get("skill_type", "") or item.kind
            hits.append(LibraryHit(key, item.text, item.ref, context, float(embeddings.clip_score(s))))
    if len(others):
        indices, scores = ranking.search(
            vector[None, :],
            ranking.cached(("others", others.key, others.signature), lambda: ranking.candidates(others.vectors)),
            k,
        )
        for i, s in zip(indices[0], scores[0], strict=True):
            item = others.items[i]
            hits.append(LibraryHit("cycle", item.text, item.ref, item.label, float(embeddings.clip_score(s))))
    hits.sort(key=lambda h: -h.score)
    return hits[:k], (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class Duplicate:
    capability_id: int
    ref: str
    statement: str
    score: float

    def as_dict(self) -> dict:
        return {"id": self.capability_id, "ref": self.ref, "statement": self.statement, "score": round(self.score, 4)}


def near_duplicates(
    cycle: Cycle, text: str, *, threshold: float = DUPLICATE_THRESHOLD, exclude_id: int | None = None, k: int = 5
) -> list[Duplicate]:
    """The cycle's capabilities (submitted or accepted) that say nearly the same as ``text``.

    By plain cosine, the cycle's accent kept (unlike ``library_search``): two statements of the
    cycle that say the same thing share its accent as well, and are still duplicates; discounting
    what they have in common would lower exactly the score that makes them one. The threshold
    (``DUPLICATE_THRESHOLD``) is a cosine's, too."""
    text = (text or "").strip()
    if len(text) < MIN_QUERY_LENGTH:
        return []
    corpus = _capability_corpus(f"cycle:{cycle.pk}", Capability.objects.filter(cycle=cycle, status__in=LIVE_STATUSES))
    if not len(corpus):
        return []
    indices, scores = embeddings.topk(_query_vector(text)[None, :], corpus.vectors, k + 1)
    out = []
    for i, s in zip(indices[0], scores[0], strict=True):
        item = corpus.items[i]
        if item.id != exclude_id and s >= threshold:
            out.append(Duplicate(item.id, item.ref, item.text, float(embeddings.clip_score(s))))
    return out[:k]


def suggest_classification(text: str, *, exclude_id: int | None = None) -> dict | None:
    """Function › Domain › Area for ``text``, by a score-weighted vote of the nearest classified
    capabilities of any cycle; None when nothing classified is near enough.

    By plain cosine, without the cycle's accent discount: the neighbours are capabilities, scored
    against ``CLASSIFY_MIN_SCORE`` (a cosine), it has no cycle to take an accent from, and no case
    set measures a discount here."""
    text = (text or "").strip()
    if len(text) < MIN_QUERY_LENGTH:
        return None
    classified = Capability.objects.filter(function__isnull=False).exclude(status=Capability.Status.REJECTED)
    corpus = _capability_corpus("classified", classified)
    if not len(corpus):
        return None
    indices, scores = embeddings.topk(_query_vector(text)[None, :], corpus.vectors, CLASSIFY_NEIGHBOURS + 1)
    neighbours = [
        (corpus.items[i].id, float(s))
        for i, s in zip(indices[0], scores[0], strict=True)
        if s >= CLASSIFY_MIN_SCORE and corpus.items[i].id != exclude_id
    ][:CLASSIFY_NEIGHBOURS]
    if not neighbours:
        return None
    capabilities = Capability.objects.select_related("function", "domain", "area").in_bulk([pk for pk, _ in neighbours])
    votes: dict[tuple, float] = {}
    for pk, score in neighbours:
        c = capabilities.get(pk)
        if c is None:
            continue
        key = (c.function, c.domain, c.area)
        votes[key] = votes.get(key, 0.0) + score
    (function, domain, area), weight = max(votes.items(), key=lambda kv: kv[1])
    total = sum(votes.values())

    def named(obj):
        return {"id": obj.pk, "name": obj.name} if obj is not None else None

    return {
        "function": named(function),
        "domain": named(domain),
        "area": named(area),
        "confidence": round(weight / total, 4) if total else 0.0,
        "neighbours": [
            {"id": pk, "ref": capabilities[pk].ref, "statement": capabilities[pk].statement, "score": round(s, 4)}
            for pk, s in neighbours
            if pk in capabilities
        ],
    }

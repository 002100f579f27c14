"""The numbers behind matching: a framework version as one matrix, level windows, and fit/surplus.

Pure numpy over arrays the database gave once; no queries inside the loops.

A version's *match statements* (IfATE duties, O*NET tasks, ESCO essential skills) are ordered by
standard, so per-standard reductions are ``np.maximum.reduceat``/``np.add.reduceat`` over
contiguous runs. Statements with the same text share one vector (ESCO repeats a skill in every
occupation that needs it), so the score matrix of a run has one column per distinct text.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from matching import embeddings
from matching.models import Framework, FrameworkVersion, Standard, Statement


def standard_context_text(title: str, extra: dict | None) -> str:
    """A standard as the second stage's context of its statements: "title. overview"."""
    extra = extra or {}
    about = " ".join(str(extra.get("overviewOfRole") or extra.get("description") or "").split())
    return f"{title}. {about}"[:600] if about else title


MATCH_KINDS = {
    Framework.Kind.IFATE: [Statement.Kind.DUTY],
    Framework.Kind.ONET: [Statement.Kind.TASK],
    Framework.Kind.ESCO: [Statement.Kind.ESSENTIAL_SKILL],
}
LEVEL_MIN, LEVEL_MAX = 1, 8


@dataclass
class VersionMatrix:
    version_id: int
    has_levels: bool
    statement_ids: np.ndarray  # (N,) match statements, grouped by standard
    columns: np.ndarray  # (N,) column of each statement's text in ``vectors``
    hashes: list[str]  # (U,) the distinct texts' hashes, in column order
    texts: list[str]  # (U,) the distinct texts
    standard_ids: np.ndarray  # (S,)
    standard_starts: np.ndarray  # (S,) first statement of each standard
    standard_levels: np.ndarray  # (S,) 0 when the standard has no level
    statement_standard: np.ndarray  # (N,) index into the standard arrays
    _vectors: np.ndarray | None = None
    _ranking: object = None

    def vectors(self, progress=None) -> np.ndarray:
        """(U, DIM) vectors of the distinct texts, loaded (or encoded) on first use."""
        if self._vectors is None:
            vectors = embeddings.stacked(f"version:{self.version_id}", self.hashes, self.texts, progress)
            self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return self._vectors

    def ranking(self, progress=None):
        """The second stage's view of these statements (``matching.ranking.Candidates``): their
        vectors, density among themselves and standard context; built once per process."""
        if self._ranking is None:
            from matching import ranking

            vectors = self.vectors(progress)
            context = None
            if len(self.hashes) >= ranking.MIN_STATEMENTS:
                context = self._context_vectors()
            self._ranking = ranking.candidates(vectors, context, key=f"version:{self.version_id}", hashes=self.hashes)
        return self._ranking

    def _context_vectors(self) -> np.ndarray:
        """Per distinct text, the normalised mean vector of the standards it belongs to, each as
        "title. overview" (IfATE's overviewOfRole, O*NET's description)."""
        standards = {
            pk: standard_context_text(title, extra)
            for pk, title, extra in Standard.objects.filter(pk__in=[int(s) for s in self.standard_ids]).values_list(
                "id", "title", "extra"
            )
        }
        texts = [standards[int(s)] for s in self.standard_ids]
        vectors = embeddings.encode(texts) if texts else np.zeros((0, embeddings.DIM), np.float32)
        # Sum per text over its statements' standards: a (texts × standards) count matrix times the
        # standards' vectors (np.add.at over 18,796 O*NET rows took 0.5 s, the whole build now 0.2 s).
        from scipy import sparse  # here: only a worker building a version's ranking needs it

        counts = sparse.csr_matrix(
            (np.ones(len(self.columns)), (self.columns, self.statement_standard)),
            shape=(len(self.hashes), len(vectors)),
        )
        context = np.asarray(counts @ vectors.astype(np.float64))
        norms = np.linalg.norm(context, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (context / norms).astype(np.float32)

    @property
    def standard_sizes(self) -> np.ndarray:
        return np.diff(np.append(self.standard_starts, len(self.statement_ids)))

    def statement_index(self) -> dict[int, int]:
        return {int(s): i for i, s in enumerate(self.statement_ids)}

    def level_mask(self, levels: tuple[int, int] | None) -> np.ndarray | None:
        """Statements whose standard lies in [low, high]; None when every statement counts."""
        if levels is None or not self.has_levels:
            return None
        low, high = levels
        standard_ok = (self.standard_levels >= low) & (self.standard_levels <= high)
        return standard_ok[self.statement_standard]


# Keyed by (pk, checksum): ids can come back after a rollback (tests), checksums cannot collide.
_matrices: dict[tuple[int, str], VersionMatrix] = {}
_lock = threading.Lock()


def version_matrix(version: FrameworkVersion) -> VersionMatrix:
    """All match statements of a version as one array (cached per process: versions never change).
    Call ``.vectors()`` for their embeddings."""
    key = (version.pk, version.checksum)
    cached = _matrices.get(key)
    if cached is not None:
        return cached
    with _lock:
        if key in _matrices:
            return _matrices[key]
        kinds = MATCH_KINDS.get(version.framework.kind, [Statement.Kind.DUTY])
        rows = list(
            Statement.objects.filter(version=version, kind__in=kinds, standard__isnull=False)
            .order_by("standard_id", "id")
            .values_list("id", "standard_id", "text_hash", "text", "standard__level")
        )
        columns_of: dict[str, int] = {}
        texts: dict[str, str] = {}
        statement_ids = np.empty(len(rows), dtype=np.int64)
        columns = np.empty(len(rows), dtype=np.int64)
        standard_ids: list[int] = []
        standard_starts: list[int] = []
        standard_levels: list[int] = []
        statement_standard = np.empty(len(rows), dtype=np.int64)
        for i, (pk, standard_id, digest, text, level) in enumerate(rows):
            statement_ids[i] = pk
            if digest not in columns_of:
                columns_of[digest] = len(columns_of)
                texts[digest] = text
            columns[i] = columns_of[digest]
            if not standard_ids or standard_ids[-1] != standard_id:
                standard_ids.append(standard_id)
                standard_starts.append(i)
                standard_levels.append(level or 0)
            statement_standard[i] = len(standard_ids) - 1
        hashes = list(columns_of)
        matrix = VersionMatrix(
            version_id=version.pk,
            has_levels=version.has_levels,
            statement_ids=statement_ids,
            columns=columns,
            hashes=hashes,
            texts=[texts[h] for h in hashes],
            standard_ids=np.array(standard_ids, dtype=np.int64),
            standard_starts=np.array(standard_starts, dtype=np.int64),
            standard_levels=np.array(standard_levels, dtype=np.int64),
            statement_standard=statement_standard,
        )
        _matrices[key] = matrix
        return matrix


def forget_matrices() -> None:
    _matrices.clear()


def window(levels: tuple[int, int] | None, width: int) -> tuple[int, int] | None:
    """A role level's academic range widened by ``width`` either side (clamped to 1–8)."""
    if levels is None:
        return None
    low, high = levels
    return max(LEVEL_MIN, low - width), min(LEVEL_MAX, high + width)


def union_window(windows: list[tuple[int, int] | None]) -> tuple[int, int] | None:
    """The levels a capability is compared at: the span of its FOPs' windows; None (every level)
    when it belongs to no FOP or to a FOP without a role level."""
    if not windows or any(w is None for w in windows):
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k largest entries of each row, best first (-inf = excluded)."""
    n, m = scores.shape
    k = max(0, min(k, m))
    if k == 0:
        return np.zeros((n, 0), np.int64), np.zeros((n, 0), np.float32)
    part = np.argpartition(scores, m - k, axis=1)[:, m - k :] if k < m else np.tile(np.arange(m), (n, 1))
    values = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(values, order, axis=1)


def matched_matrix(
    statement_scores: np.ndarray, threshold: float, overrides: list[tuple[int, int, bool]] | None = None
) -> np.ndarray:
    """Capability × statement matched flags: score ≥ threshold, then human decisions win."""
    matched = statement_scores >= threshold - 1e-6
    for row, col, value in overrides or []:
        matched[row, col] = value
    return matched


def fit_and_surplus(
    matched: np.ndarray, rows: np.ndarray, vm: VersionMatrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For one FOP (its capability ``rows``), per standard of the version:
    fit = share of the FOP's capabilities matched by ≥ 1 statement of the standard;
    surplus = share of the standard's statements matching none of the FOP's capabilities.
    Also returns the counts behind them (capabilities matched, statements matched)."""
    sizes = vm.standard_sizes
    if len(rows) == 0 or len(vm.statement_ids) == 0:
        zeros = np.zeros(len(vm.standard_ids))
        return zeros, np.ones(len(vm.standard_ids)), zeros.astype(int), zeros.astype(int)
    block = matched[rows]  # (caps, N)
    per_capability = np.logical_or.reduceat(block, vm.standard_starts, axis=1)  # (caps, S)
    capabilities_matched = per_capability.sum(axis=0)
    statement_hit = block.any(axis=0)  # (N,)
    statements_matched = np.add.reduceat(statement_hit.astype(np.int64), vm.standard_starts)
    fit = capabilities_matched / len(rows)
    surplus = 1.0 - statements_matched / sizes
    return fit, surplus, capabilities_matched, statements_matched

"""Reads of the matching app, for its own pages and for the findings pages.

Every function that takes ``threshold`` uses the run's own threshold when it is None; any other
value recomputes from the run's stored capability × statement scores (no embedding). Human
reviews (``MatchReview``) override the threshold either way: a confirmed pair counts as matched
whatever its score, a rejected pair never does; scores stay as computed.

Level windows: in a framework with levels (IfATE), a FOP is compared with the standards within
±``run.level_window`` academic levels of its role level's range; a capability with the union of
its FOPs' windows. A FOP without a role level, a capability in no FOP, and every framework without
levels (O*NET, ESCO) compare with all standards (``window`` is None; pages say so).

Main entry points:
- ``latest_run(cycle, kind=None)``, ``runs_for_cycle(cycle)``
- ``capability_best_matches(run, threshold=None) -> list[CapabilityMatch]``
- ``capabilities_without_provision(run, threshold=None) -> list[CapabilityMatch]``
- ``fit_surplus(run, fop, threshold=None, limit=None) -> list[FitSurplus]`` (best fit first)
- ``fit_surplus_table(run, threshold=None, min_fit=0.0) -> list[FitSurplus]``
- ``priority_fops(run, threshold=None) -> list[PriorityFop]`` (most unsupported capabilities first)
- ``fop_capability_matches(run, fop, threshold=None) -> list[CapabilityMatch]``
- ``capability_results(run, capability) -> QuerySet[MatchResult]`` (its top-k, best first)
- ``run_summary(run, threshold=None) -> dict`` (counts for dashboards)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Max, Min, QuerySet

from cycles.models import Cycle
from matching import scoring
from matching.models import (
    Framework,
    FrameworkVersion,
    MatchResult,
    MatchReview,
    MatchRun,
    MatchScores,
    Standard,
    Statement,
)
from workshops.models import FOP, Capability

# --- runs and frameworks ------------------------------------------------------------------------


def frameworks_with_versions() -> list[Framework]:
    """Every framework with its versions, newest first; a version not yet embedded carries how far
    the embedding is (``stored`` of ``total`` statements: the worker stores them as it goes)."""
    frameworks = list(
        Framework.objects.prefetch_related("versions").annotate(version_count=Count("versions")).order_by("kind")
    )
    for framework in frameworks:
        for version in framework.versions.all():
            if version.embedded_at is None:
                progress = version_embedding(version)
                version.total, version.stored, version.percent = (
                    progress["total"],
                    progress["stored"],
                    progress["percent"],
                )
    return frameworks


def version_embedding(version: FrameworkVersion | None) -> dict | None:
    """How far the embedding of ``version``'s statements is: ``active`` while some are not stored
    yet, ``stored`` of ``total`` and ``percent``."""
    from matching.embeddings import MODEL_NAME
    from matching.models import Embedding

    if version is None:
        return None
    if version.embedded_at is not None:
        return {"active": False, "stored": None, "total": None, "percent": 100}
    statements = Statement.objects.filter(version=version)
    total = statements.count()
    stored = statements.filter(text_hash__in=Embedding.objects.filter(model=MODEL_NAME).values("text_hash")).count()
    # Every statement stored, the version not marked yet: the warm-up marks it once its corpora
    # are built too, and a match run embeds what it needs without marking.
    done = stored >= total
    return {"active": not done, "stored": stored, "total": total, "percent": 100 if done else int(100 * stored / total)}


def framework_version(version_id: int) -> FrameworkVersion:
    return FrameworkVersion.objects.select_related("framework").get(pk=version_id)


def statements_by_id(version: FrameworkVersion, ids: Sequence[int]) -> dict[int, Statement]:
    """Statements of a version by id, with their standard."""
    rows = Statement.objects.filter(version=version, pk__in=[int(i) for i in ids]).select_related("standard")
    return {s.pk: s for s in rows}


def latest_versions() -> list[FrameworkVersion]:
    out = []
    for framework in Framework.objects.order_by("kind"):
        version = framework.latest_version()
        if version is not None:
            out.append(version)
    return out


def runs_for_cycle(cycle: Cycle) -> QuerySet[MatchRun]:
    return MatchRun.objects.filter(cycle=cycle).select_related("framework_version__framework", "created_by")


def has_capabilities_to_match(cycle: Cycle) -> bool:
    """Whether a run of ``cycle`` would compare anything: a FOP's capability, or (before FOPs) an
    accepted capability (as ``services.run_capabilities`` chooses them)."""
    if FOP.objects.filter(cycle=cycle).exists():
        return Capability.objects.filter(fops__cycle=cycle).exists()
    return Capability.objects.filter(cycle=cycle, status=Capability.Status.ACCEPTED).exists()


def default_framework_version(cycle: Cycle) -> FrameworkVersion | None:
    """The version a new match run of ``cycle`` starts from: the newest version of the cycle's
    framework, which is the one its latest run used (a convener who changed it keeps their choice),
    else Skills England (IfATE), else the newest import of any framework."""
    last = MatchRun.objects.filter(cycle=cycle).select_related("framework_version").order_by("-created_at", "-id")
    kind = last.values_list("framework_version__framework__kind", flat=True).first() or Framework.Kind.IFATE
    newest = FrameworkVersion.objects.order_by("-imported_at", "-id")
    return newest.filter(framework__kind=kind).first() or newest.filter(framework__kind=Framework.Kind.IFATE).first()


def run_of_cycle(cycle: Cycle, run_id: int) -> MatchRun | None:
    """One of the cycle's runs (None for another cycle's run id)."""
    return (
        MatchRun.objects.select_related("framework_version__framework", "created_by")
        .filter(pk=run_id, cycle=cycle)
        .first()
    )


def reviews_by_statement(capability: Capability, statement_ids: list[int]) -> dict[int, MatchReview]:
    """Educators' reviews of a capability's matches, keyed by statement id."""
    reviews = MatchReview.objects.filter(capability=capability, statement_id__in=statement_ids)
    return {r.statement_id: r for r in reviews}


def latest_run(cycle: Cycle, kind: str | None = None) -> MatchRun | None:
    """The newest finished run of a cycle (optionally against one framework kind)."""
    runs = runs_for_cycle(cycle).filter(status=MatchRun.Status.DONE)
    if kind:
        runs = runs.filter(framework_version__framework__kind=kind)
    return runs.order_by("-finished_at", "-id").first()


def capability_results(run: MatchRun, capability: Capability) -> QuerySet[MatchResult]:
    return (
        MatchResult.objects.filter(run=run, capability=capability)
        .select_related("statement__standard")
        .order_by("rank")
    )


def run_results(run: MatchRun) -> QuerySet[MatchResult]:
    return (
        MatchResult.objects.filter(run=run)
        .select_related("statement__standard", "capability")
        .order_by("capability__ref", "rank")
    )


# --- the analysis of a finished run -------------------------------------------------------------


@dataclass(frozen=True)
class CapabilityMatch:
    capability: Capability
    statement: Statement | None  # best-scoring statement within the capability's window
    score: float | None
    matched: bool  # served by some statement within the window (threshold, then reviews)
    review: MatchReview | None = None  # the decision on the best statement, if any
    window: tuple[int, int] | None = None
    confirmed: Statement | None = None  # a statement a reviewer confirmed, when not the best one
    # likely / possible / unlikely with the estimated precision of the best match's score
    # (matching/calibration.py); "confirmed"/"rejected" when reviewed; None without a calibration.
    confidence: object = None

    @property
    def standard(self) -> Standard | None:
        return self.statement.standard if self.statement else None


@dataclass(frozen=True)
class FitSurplus:
    fop: FOP
    standard: Standard
    fit: float
    surplus: float
    capabilities_matched: int
    capabilities: int
    statements_matched: int
    statements: int


@dataclass(frozen=True)
class PriorityFop:
    fop: FOP
    capabilities: int
    unsupported: int
    max_fit: float
    best_standard: Standard | None
    unsupported_capabilities: list[Capability] = field(default_factory=list)


@dataclass
class _Analysis:
    run: MatchRun
    threshold: float
    vm: scoring.VersionMatrix
    capability_ids: np.ndarray  # (C,)
    statement_scores: np.ndarray  # (C, N)
    matched: np.ndarray  # (C, N) after reviews
    served: np.ndarray  # (C,) matched by some statement in the capability's window
    best_index: np.ndarray  # (C,) statement index of the best score within the window, -1 if none
    best_score: np.ndarray  # (C,)
    windows: dict[int, tuple[int, int] | None]
    reviews: dict[tuple[int, int], MatchReview]
    vm_version: FrameworkVersion | None = None

    def rows_for(self, capability_ids: list[int]) -> np.ndarray:
        index = {int(c): i for i, c in enumerate(self.capability_ids)}
        return np.array([index[c] for c in capability_ids if c in index], dtype=np.int64)


_cache: dict[tuple, _Analysis] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 16


def _analysis(run: MatchRun, threshold: float | None) -> _Analysis | None:
    if run.status != MatchRun.Status.DONE:
        return None
    threshold = run.threshold if threshold is None else float(threshold)
    stored = MatchScores.objects.filter(run=run).only("rows", "columns").first()
    if stored is None:
        return None
    capability_ids = None
    review_state = MatchReview.objects.filter(
        statement__version_id=run.framework_version_id, capability__cycle_id=run.cycle_id
    ).aggregate(n=Count("id"), last=Max("at"))
    key = (run.pk, run.finished_at, round(threshold, 6), review_state["n"], review_state["last"])
    cached = _cache.get(key)
    if cached is not None:
        return cached
    stored = MatchScores.objects.get(pk=stored.pk)
    version = FrameworkVersion.objects.select_related("framework").get(pk=run.framework_version_id)
    vm = scoring.version_matrix(version)
    capability_ids = np.frombuffer(bytes(stored.capability_ids), dtype=np.int64)
    matrix = np.frombuffer(bytes(stored.matrix), dtype=np.float16).reshape(stored.rows, stored.columns)
    column_hashes = bytes(stored.column_hashes)
    stored_hashes = [column_hashes[i * 32 : (i + 1) * 32].hex() for i in range(stored.columns)]
    if stored_hashes != vm.hashes:
        # Same version, so the same texts: only the order could differ (it never should).
        position = {h: i for i, h in enumerate(stored_hashes)}
        matrix = matrix[:, [position[h] for h in vm.hashes]]
    statement_scores = matrix.astype(np.float32)[:, vm.columns]

    row_of = {int(c): i for i, c in enumerate(capability_ids)}
    column_of = vm.statement_index()
    reviews = {}
    overrides = []
    for review in MatchReview.objects.filter(
        capability_id__in=list(row_of), statement_id__in=list(column_of)
    ).select_related("reviewer"):
        reviews[(review.capability_id, review.statement_id)] = review
        overrides.append(
            (
                row_of[review.capability_id],
                column_of[review.statement_id],
                review.decision == MatchReview.Decision.CONFIRM,
            )
        )
    matched = scoring.matched_matrix(statement_scores, threshold, overrides)

    windows = {int(k): tuple(v) if v else None for k, v in (run.windows or {}).items()}
    served = np.zeros(len(capability_ids), dtype=bool)
    best_index = np.full(len(capability_ids), -1, dtype=np.int64)
    best_score = np.zeros(len(capability_ids), dtype=np.float32)
    masks: dict = {}
    for row, capability_id in enumerate(capability_ids):
        levels = windows.get(int(capability_id))
        if levels not in masks:
            masks[levels] = vm.level_mask(levels)
        mask = masks[levels]
        scores_row = statement_scores[row] if mask is None else np.where(mask, statement_scores[row], -np.inf)
        if len(scores_row) and np.isfinite(scores_row.max()):
            best_index[row] = int(np.argmax(scores_row))
            best_score[row] = scores_row[best_index[row]]
        hits = matched[row] if mask is None else matched[row] & mask
        served[row] = bool(hits.any())
    analysis = _Analysis(
        run=run,
        threshold=threshold,
        vm=vm,
        capability_ids=capability_ids,
        statement_scores=statement_scores,
        matched=matched,
        served=served,
        best_index=best_index,
        best_score=best_score,
        windows=windows,
        reviews=reviews,
        vm_version=version,
    )
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.pop(next(iter(_cache)))
        _cache[key] = analysis
    return analysis


def _capability_matches(analysis: _Analysis, rows: np.ndarray) -> list[CapabilityMatch]:
    capability_ids = [int(analysis.capability_ids[r]) for r in rows]
    capabilities = Capability.objects.in_bulk(capability_ids)
    statement_ids = [
        int(analysis.vm.statement_ids[analysis.best_index[r]]) for r in rows if analysis.best_index[r] >= 0
    ]
    confirmed_pairs = {
        cap: stmt
        for (cap, stmt), review in analysis.reviews.items()
        if review.decision == MatchReview.Decision.CONFIRM and cap in set(capability_ids)
    }
    statements = Statement.objects.select_related("standard").in_bulk(statement_ids + list(confirmed_pairs.values()))
    from matching import calibration  # noqa: PLC0415 - imports the models' module graph

    calibrated = calibration.for_version(analysis.vm_version) if analysis.vm_version else calibration.Calibration(None)
    out = []
    for r in rows:
        capability_id = int(analysis.capability_ids[r])
        capability = capabilities.get(capability_id)
        if capability is None:
            continue
        statement = None
        if analysis.best_index[r] >= 0:
            statement = statements.get(int(analysis.vm.statement_ids[analysis.best_index[r]]))
        confirmed = statements.get(confirmed_pairs.get(capability_id)) if capability_id in confirmed_pairs else None
        review = analysis.reviews.get((capability_id, statement.pk)) if statement else None
        score = float(analysis.best_score[r]) if statement else None
        out.append(
            CapabilityMatch(
                capability=capability,
                statement=statement,
                score=score,
                matched=bool(analysis.served[r]),
                review=review,
                window=analysis.windows.get(capability_id),
                confirmed=confirmed if confirmed and confirmed != statement else None,
                confidence=calibrated.confidence(score, review),
            )
        )
    return out


def capability_best_matches(run: MatchRun, threshold: float | None = None) -> list[CapabilityMatch]:
    """Every capability of the run with its best statement, score and matched flag (by ref)."""
    analysis = _analysis(run, threshold)
    if analysis is None:
        return []
    matches = _capability_matches(analysis, np.arange(len(analysis.capability_ids)))
    return sorted(matches, key=lambda m: (m.capability.ref, m.capability.pk))


def capabilities_without_provision(run: MatchRun, threshold: float | None = None) -> list[CapabilityMatch]:
    """Capabilities matched by no statement of any standard in their window (with their best
    near-miss, for context); prefetches supply-chain partners."""
    analysis = _analysis(run, threshold)
    if analysis is None:
        return []
    rows = np.flatnonzero(~analysis.served)
    matches = _capability_matches(analysis, rows)
    partners = {
        c.pk: c
        for c in Capability.objects.filter(pk__in=[m.capability.pk for m in matches]).prefetch_related("partners")
    }
    out = [
        CapabilityMatch(**{**m.__dict__, "capability": partners.get(m.capability.pk, m.capability)}) for m in matches
    ]
    return sorted(out, key=lambda m: (m.capability.ref, m.capability.pk))


def _fop_entries(run: MatchRun) -> dict[int, dict]:
    return {int(k): v for k, v in (run.fop_snapshot or {}).items()}


def _fit_rows(analysis: _Analysis, fop_id: int, entry: dict) -> list[tuple[int, float, float, int, int, int, int]]:
    """(standard index, fit, surplus, caps matched, caps, statements matched, statements) in the FOP's window."""
    vm = analysis.vm
    rows = analysis.rows_for(entry["capabilities"])
    fit, surplus, caps_matched, statements_matched = scoring.fit_and_surplus(analysis.matched, rows, vm)
    levels = tuple(entry["window"]) if entry.get("window") else None
    if levels is not None and vm.has_levels:
        in_window = (vm.standard_levels >= levels[0]) & (vm.standard_levels <= levels[1])
    else:
        in_window = np.ones(len(vm.standard_ids), dtype=bool)
    sizes = vm.standard_sizes
    return [
        (
            int(s),
            float(fit[s]),
            float(surplus[s]),
            int(caps_matched[s]),
            len(rows),
            int(statements_matched[s]),
            int(sizes[s]),
        )
        for s in np.flatnonzero(in_window)
    ]


def _fit_objects(analysis: _Analysis, fop: FOP, rows: list, standards: dict[int, Standard]) -> list[FitSurplus]:
    vm = analysis.vm
    return [
        FitSurplus(
            fop=fop,
            standard=standards[int(vm.standard_ids[s])],
            fit=fit,
            surplus=surplus,
            capabilities_matched=cm,
            capabilities=nc,
            statements_matched=sm,
            statements=ns,
        )
        for s, fit, surplus, cm, nc, sm, ns in rows
    ]


def _sort_key(row: FitSurplus):
    return (-row.fit, row.surplus, row.standard.title)


def fit_surplus(run: MatchRun, fop: FOP, threshold: float | None = None, limit: int | None = None) -> list[FitSurplus]:
    """Fit and surplus of one FOP against every standard in its level window, best fit first."""
    analysis = _analysis(run, threshold)
    entry = _fop_entries(run).get(fop.pk)
    if analysis is None or entry is None:
        return []
    rows = _fit_rows(analysis, fop.pk, entry)
    rows.sort(key=lambda r: (-r[1], r[2]))
    if limit:
        rows = rows[:limit]
    standards = Standard.objects.in_bulk([int(analysis.vm.standard_ids[r[0]]) for r in rows])
    return sorted(_fit_objects(analysis, fop, rows, standards), key=_sort_key)


def fit_surplus_table(run: MatchRun, threshold: float | None = None, min_fit: float = 0.0) -> list[FitSurplus]:
    """Fit and surplus of every FOP × standard in the FOP's window (rows with fit ≥ min_fit;
    pass a small positive min_fit to drop the standards a FOP does not touch at all)."""
    analysis = _analysis(run, threshold)
    if analysis is None:
        return []
    entries = _fop_entries(run)
    fops = FOP.objects.in_bulk(list(entries))
    per_fop = {}
    needed = set()
    for fop_id, entry in entries.items():
        if fop_id not in fops:
            continue
        rows = [r for r in _fit_rows(analysis, fop_id, entry) if r[1] >= min_fit]
        per_fop[fop_id] = rows
        needed.update(int(analysis.vm.standard_ids[r[0]]) for r in rows)
    standards = Standard.objects.in_bulk(list(needed))
    out = []
    for fop_id, rows in per_fop.items():
        out.extend(sorted(_fit_objects(analysis, fops[fop_id], rows, standards), key=_sort_key))
    return sorted(out, key=lambda r: (r.fop.name, r.fop.pk, -r.fit, r.surplus))


def fop_capability_matches(run: MatchRun, fop: FOP, threshold: float | None = None) -> list[CapabilityMatch]:
    analysis = _analysis(run, threshold)
    entry = _fop_entries(run).get(fop.pk)
    if analysis is None or entry is None:
        return []
    matches = _capability_matches(analysis, analysis.rows_for(entry["capabilities"]))
    return sorted(matches, key=lambda m: (m.capability.ref, m.capability.pk))


def priority_fops(run: MatchRun, threshold: float | None = None) -> list[PriorityFop]:
    """FOPs ranked by how many of their capabilities lack provision, with each FOP's maximum fit."""
    analysis = _analysis(run, threshold)
    if analysis is None:
        return []
    entries = _fop_entries(run)
    from workshops.fops.selectors import with_labels  # noqa: PLC0415 - labels the page shows, one query

    fops = {f.pk: f for f in with_labels(FOP.objects.filter(pk__in=list(entries)), run.cycle_id)}
    capability_index = {int(c): i for i, c in enumerate(analysis.capability_ids)}
    unsupported_ids = {int(c) for c, ok in zip(analysis.capability_ids, analysis.served, strict=True) if not ok}
    capabilities = Capability.objects.in_bulk(list(unsupported_ids))
    best: dict[int, tuple[float, int | None]] = {}
    for fop_id, entry in entries.items():
        rows = _fit_rows(analysis, fop_id, entry)
        top = max(rows, key=lambda r: (r[1], -r[2]), default=None)
        # No "best" standard at a fit of 0: none fits through a matched duty.
        best[fop_id] = (top[1], int(analysis.vm.standard_ids[top[0]])) if top and top[1] > 0 else (0.0, None)
    standards = Standard.objects.in_bulk([s for _, s in best.values() if s is not None])
    out = []
    for fop_id, entry in entries.items():
        fop = fops.get(fop_id)
        if fop is None:
            continue
        ids = [c for c in entry["capabilities"] if c in capability_index]
        missing = [capabilities[c] for c in ids if c in unsupported_ids and c in capabilities]
        max_fit, standard_id = best[fop_id]
        out.append(
            PriorityFop(
                fop=fop,
                capabilities=len(ids),
                unsupported=len(missing),
                max_fit=max_fit,
                best_standard=standards.get(standard_id) if standard_id else None,
                unsupported_capabilities=sorted(missing, key=lambda c: c.ref),
            )
        )
    return sorted(out, key=lambda p: (-p.unsupported, p.max_fit, p.fop.name))


def run_summary(run: MatchRun, threshold: float | None = None) -> dict:
    """Counts for dashboards: capabilities, served, without provision, threshold used."""
    analysis = _analysis(run, threshold)
    if analysis is None:
        return {"capabilities": 0, "served": 0, "without_provision": 0, "threshold": threshold or run.threshold}
    served = int(analysis.served.sum())
    return {
        "capabilities": len(analysis.capability_ids),
        "served": served,
        "without_provision": len(analysis.capability_ids) - served,
        "threshold": analysis.threshold,
        "has_levels": analysis.vm.has_levels,
        "reviews": len(analysis.reviews),
    }


# --- level windows as pages show them ------------------------------------------------------------


def level_span(version: FrameworkVersion) -> tuple[int, int] | None:
    """The lowest and highest academic level of the version's standards (IfATE: 2–7); None when
    the framework has no levels. Kept on the instance, so a page asks the database once."""
    if not version.has_levels:
        return None
    if not hasattr(version, "_level_span"):
        span = Standard.objects.filter(version=version, level__isnull=False).aggregate(
            low=Min("level"), high=Max("level")
        )
        version._level_span = (span["low"], span["high"]) if span["low"] is not None else None
    return version._level_span


def shown_window(version: FrameworkVersion, window: Sequence[int] | None) -> tuple[int, int] | None:
    """A stored level window clamped to the levels the version's standards really have.

    A run stores a role level's range widened by ``level_window`` (clamped only to 1–8), so a role
    level at 2–7 with a window of 1 is stored as 1–8 although no standard sits at level 1 or 8; the
    standards compared are the same either way, and the pages show the real range, 2–7. None means
    every level (no window)."""
    if not window:
        return None
    low, high = int(window[0]), int(window[1])
    span = level_span(version)
    if span is None:
        return low, high
    clamped = max(low, span[0]), min(high, span[1])
    return clamped if clamped[0] <= clamped[1] else (low, high)


# --- a newer framework version: what changed --------------------------------------------------


@dataclass(frozen=True)
class FitChange:
    fop: FOP
    standard_ref: str
    standard_title: str
    before: float  # fit 0..1 in the earlier run (0 when the standard was not there)
    after: float


@dataclass(frozen=True)
class VersionDiff:
    earlier: MatchRun
    later: MatchRun
    newly_served: list[Capability]
    no_longer_served: list[Capability]
    fit_changes: list[FitChange]

    @property
    def empty(self) -> bool:
        return not (self.newly_served or self.no_longer_served or self.fit_changes)


def previous_version_run(run: MatchRun) -> MatchRun | None:
    """The cycle's latest finished run against an earlier version of the same framework."""
    return (
        MatchRun.objects.filter(
            cycle_id=run.cycle_id,
            status=MatchRun.Status.DONE,
            framework_version__framework_id=run.framework_version.framework_id,
            framework_version__imported_at__lt=run.framework_version.imported_at,
        )
        .exclude(framework_version_id=run.framework_version_id)
        .select_related("framework_version")
        .order_by("-finished_at", "-id")
        .first()
    )


def _fits_by_ref(analysis: _Analysis, run: MatchRun) -> dict[tuple[int, str], tuple[float, str]]:
    out = {}
    standards = dict(Standard.objects.filter(pk__in=list(analysis.vm.standard_ids)).values_list("id", "ref"))
    titles = dict(Standard.objects.filter(pk__in=list(analysis.vm.standard_ids)).values_list("id", "title"))
    for fop_id, entry in _fop_entries(run).items():
        for s, fit, *_rest in _fit_rows(analysis, fop_id, entry):
            standard_id = int(analysis.vm.standard_ids[s])
            out[(fop_id, standards[standard_id])] = (fit, titles[standard_id])
    return out


def version_diff(earlier: MatchRun, later: MatchRun, threshold: float | None = None) -> VersionDiff | None:
    """What matching the cycle again against a newer version changed in the findings, at one
    threshold (each run's own when None): capabilities newly served and no longer served, and each
    FOP × standard (by reference, so a standard carried into the new version is the same one) whose
    fit changed."""
    a, b = _analysis(earlier, threshold), _analysis(later, threshold)
    if a is None or b is None:
        return None
    served_a = {int(c) for c, ok in zip(a.capability_ids, a.served, strict=True) if ok}
    served_b = {int(c) for c, ok in zip(b.capability_ids, b.served, strict=True) if ok}
    common = {int(c) for c in a.capability_ids} & {int(c) for c in b.capability_ids}
    capabilities = Capability.objects.in_bulk(list(common))
    newly = sorted((capabilities[c] for c in common if c in served_b - served_a), key=lambda c: (c.ref, c.pk))
    lost = sorted((capabilities[c] for c in common if c in served_a - served_b), key=lambda c: (c.ref, c.pk))
    fits_a, fits_b = _fits_by_ref(a, earlier), _fits_by_ref(b, later)
    fops = FOP.objects.in_bulk({fop_id for fop_id, _ in [*fits_a, *fits_b]})
    changes = []
    for key in sorted(set(fits_a) | set(fits_b)):
        before, title_a = fits_a.get(key, (0.0, ""))
        after, title_b = fits_b.get(key, (0.0, ""))
        if abs(before - after) > 1e-9 and key[0] in fops:
            changes.append(FitChange(fops[key[0]], key[1], title_b or title_a, before, after))
    changes.sort(key=lambda c: (-abs(c.after - c.before), c.fop.name, c.standard_title))
    return VersionDiff(earlier, later, newly, lost, changes)

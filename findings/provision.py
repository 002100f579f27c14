"""The findings' view of a match run: best matches, served capabilities, fit and surplus, priorities.

It is the only findings module that reads the matching app, so the provision pages, the report and
the exports share one reading of a run at one threshold. Everything comes from
``matching.selectors`` (best matches, served capabilities, fit and surplus, priority FOPs) at the
threshold the page asks for. Two views need the run's full capability × statement matrix rather
than its top-k results — the matched duties of a capability and a FOP's capabilities against each
of its top-10 standards — so they read the same per-process analysis the selectors use, which keeps
them consistent with the fit factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from django.urls import reverse

from cycles.models import Cycle
from matching import scoring, selectors
from matching.models import MatchRun, Standard, Statement
from workshops.models import FOP

# At most this many matched duties are listed per capability (best first).
MAX_DUTIES_PER_CAPABILITY = 10
# The fit & surplus pages list a FOP's best-fitting standards, at most this many.
FIT_LIMIT = 100


@dataclass(frozen=True)
class StandardInfo:
    id: int
    ref: str
    title: str
    level: int | None
    duty_count: int

    @property
    def label(self) -> str:
        return f"{self.title} (level {self.level})" if self.level else self.title


@dataclass(frozen=True)
class DutyScore:
    capability_id: int
    standard: StandardInfo
    statement_id: int
    text: str
    score: float  # 0..1
    matched: bool  # at the threshold, after any educator review
    # matching.calibration.Confidence of the pair (best matches only), None without a calibration
    confidence: object = None

    @property
    def standard_label(self) -> str:
        return self.standard.label


@dataclass
class FitRow:
    standard: StandardInfo
    duties: int
    matching_duties: int
    fop_capabilities: int
    matched_capabilities: int

    @property
    def fit(self) -> float:
        return 100.0 * self.matched_capabilities / self.fop_capabilities if self.fop_capabilities else 0.0

    @property
    def surplus(self) -> float:
        return 100.0 * (self.duties - self.matching_duties) / self.duties if self.duties else 0.0


class MatchView:
    """A cycle's finished match run read at one threshold; each part is computed on first use."""

    def __init__(self, cycle: Cycle, run: MatchRun, threshold: float):
        self.cycle = cycle
        self.run = run
        self.threshold = threshold
        self.framework_label = str(run.framework_version)
        self.default_threshold = run.threshold
        self.standards: dict[int, StandardInfo] = {}
        self._fit: dict[tuple[int, int | None], list[FitRow]] = {}
        self._fop_best: dict[int, dict[int, DutyScore | None]] = {}

    # --- helpers ---------------------------------------------------------------------------

    @cached_property
    def _analysis(self):
        # The selectors' own reading of the run (stored scores, windows, reviews, threshold),
        # cached per process; used only for the two per-statement views described above.
        return selectors._analysis(self.run, self.threshold)

    @cached_property
    def _sizes(self) -> dict[int, int]:
        analysis = self._analysis
        if analysis is None:
            return {}
        vm = analysis.vm
        return {int(s): int(n) for s, n in zip(vm.standard_ids, vm.standard_sizes, strict=True)}

    def _standard(self, standard: Standard) -> StandardInfo:
        info = self.standards.get(standard.pk)
        if info is None:
            info = StandardInfo(
                id=standard.pk,
                ref=standard.ref,
                title=standard.title,
                level=standard.level,
                duty_count=self._sizes.get(standard.pk, 0),
            )
            self.standards[standard.pk] = info
        return info

    def _score(self, cap_id: int, statement: Statement, score: float, matched: bool, confidence=None) -> DutyScore:
        return DutyScore(
            capability_id=cap_id,
            standard=self._standard(statement.standard),
            statement_id=statement.pk,
            text=statement.text,
            score=float(score),
            matched=bool(matched),
            confidence=confidence,
        )

    # --- capabilities ------------------------------------------------------------------------

    @cached_property
    def best(self) -> dict[int, DutyScore | None]:
        out = {}
        for m in selectors.capability_best_matches(self.run, self.threshold):
            out[m.capability.pk] = (
                self._score(m.capability.pk, m.statement, m.score, m.matched, m.confidence) if m.statement else None
            )
        return out

    @cached_property
    def served(self) -> set[int]:
        return {m.capability.pk for m in selectors.capability_best_matches(self.run, self.threshold) if m.matched}

    def in_run(self, cap_id: int) -> bool:
        return cap_id in self.best

    def best_match(self, cap_id: int, fop=None) -> DutyScore | None:
        return self.best.get(cap_id)

    def is_served(self, cap_id: int) -> bool:
        return cap_id in self.served

    def capabilities_without_provision(self) -> list[int]:
        return [cap_id for cap_id in self.best if cap_id not in self.served]

    @cached_property
    def _matched_duties(self) -> dict[int, list[DutyScore]]:
        """Per capability, the statements within its level window that match (threshold, then reviews)."""
        analysis = self._analysis
        if analysis is None:
            return {}
        vm = analysis.vm
        picks: dict[int, list[tuple[int, float]]] = {}
        masks: dict = {}
        for row, cap_id in enumerate(analysis.capability_ids):
            cap_id = int(cap_id)
            levels = analysis.windows.get(cap_id)
            if levels not in masks:
                masks[levels] = vm.level_mask(levels)
            mask = masks[levels]
            hits = analysis.matched[row] if mask is None else analysis.matched[row] & mask
            columns = np.flatnonzero(hits)
            if not len(columns):
                continue
            scores = analysis.statement_scores[row, columns]
            order = np.argsort(-scores, kind="stable")[:MAX_DUTIES_PER_CAPABILITY]
            picks[cap_id] = [(int(vm.statement_ids[columns[i]]), float(scores[i])) for i in order]
        statements = Statement.objects.select_related("standard").in_bulk(
            {sid for pairs in picks.values() for sid, _ in pairs}
        )
        return {
            cap_id: [self._score(cap_id, statements[sid], score, True) for sid, score in pairs if sid in statements]
            for cap_id, pairs in picks.items()
        }

    def matches(self, cap_id: int, fop=None) -> list[DutyScore]:
        return self._matched_duties.get(cap_id, [])

    # --- standards and FOPs ------------------------------------------------------------------

    @cached_property
    def _considered(self) -> list[StandardInfo]:
        # The run's framework matrix already holds every standard with match statements and its level.
        analysis = self._analysis
        if analysis is None:
            return []
        vm = analysis.vm
        return [
            StandardInfo(id=int(sid), ref="", title="", level=int(level) or None, duty_count=int(size))
            for sid, level, size in zip(vm.standard_ids, vm.standard_levels, vm.standard_sizes, strict=True)
        ]

    def standards_considered(self) -> list[StandardInfo]:
        return self._considered

    def _fit_row(self, r) -> FitRow:
        return FitRow(
            standard=self._standard(r.standard),
            duties=r.statements,
            matching_duties=r.statements_matched,
            fop_capabilities=r.capabilities,
            matched_capabilities=r.capabilities_matched,
        )

    def fit_surplus(self, fop_id: int, limit: int | None = FIT_LIMIT) -> list[FitRow]:
        """The standards a FOP touches (at least one matched capability), best fit first, at most ``limit``."""
        key = (fop_id, limit)
        if key not in self._fit:
            rows = selectors.fit_surplus(self.run, FOP(pk=fop_id), self.threshold, limit=limit)
            self._fit[key] = [self._fit_row(r) for r in rows if r.capabilities_matched or r.statements_matched]
        return self._fit[key]

    @cached_property
    def _priorities(self) -> dict[int, tuple[int, int, float, int | None]]:
        """Per FOP: (capabilities in the run, without provision, max fit 0..1, best standard id).

        The same definitions as ``matching.selectors.priority_fops`` (the test suite holds them
        equal), computed with whole-array operations: that selector builds a Python row per FOP
        and standard, which costs hundreds of milliseconds against O*NET or ESCO."""
        analysis = self._analysis
        if analysis is None:
            return {}
        vm = analysis.vm
        index = {int(c): i for i, c in enumerate(analysis.capability_ids)}
        out = {}
        for fop_id, entry in (self.run.fop_snapshot or {}).items():
            ids = [c for c in entry["capabilities"] if c in index]
            rows = analysis.rows_for(entry["capabilities"])
            unsupported = sum(1 for c in ids if not analysis.served[index[c]])
            fit, surplus, _caps, _stmts = scoring.fit_and_surplus(analysis.matched, rows, vm)
            levels = entry.get("window")
            if levels and vm.has_levels:
                candidates = np.flatnonzero((vm.standard_levels >= levels[0]) & (vm.standard_levels <= levels[1]))
            else:
                candidates = np.arange(len(vm.standard_ids))
            best_fit, best_standard = 0.0, None
            # A standard fits only through matched duties: at a maximum fit of 0 no standard is
            # named (not the first of a tie between every standard at 0 %).
            if len(candidates) and fit[candidates].max() > 0:
                top = candidates[fit[candidates] == fit[candidates].max()]
                pick = int(top[np.argmin(surplus[top])])
                best_fit, best_standard = float(fit[pick]), int(vm.standard_ids[pick])
            out[int(fop_id)] = (len(ids), unsupported, best_fit, best_standard)
        return out

    @cached_property
    def _priority_standards(self) -> dict[int, Standard]:
        return Standard.objects.in_bulk([s for *_rest, s in self._priorities.values() if s is not None])

    def priority(self, fop_id: int):
        entry = self._priorities.get(fop_id)
        if entry is None:
            return None
        capabilities, unsupported, max_fit, standard_id = entry
        standard = self._priority_standards.get(standard_id) if standard_id is not None else None
        return capabilities, unsupported, 100.0 * max_fit, self._standard(standard) if standard else None

    def standard_cells(
        self, fop_id: int, cap_ids: list[int], standard_ids: list[int]
    ) -> dict[tuple[int, int], tuple[float, bool]]:
        """(capability, standard) -> (best score of the standard's duties, matched by any of them)."""
        analysis = self._analysis
        if analysis is None or not cap_ids or not standard_ids:
            return {}
        vm = analysis.vm
        rows = analysis.rows_for(cap_ids)
        if not len(rows):
            return {}
        best = np.maximum.reduceat(analysis.statement_scores[rows], vm.standard_starts, axis=1)
        hit = np.logical_or.reduceat(analysis.matched[rows], vm.standard_starts, axis=1)
        index = {int(s): i for i, s in enumerate(vm.standard_ids)}
        row_caps = [int(analysis.capability_ids[r]) for r in rows]
        out = {}
        for r, cap_id in enumerate(row_caps):
            for standard_id in standard_ids:
                s = index.get(standard_id)
                if s is not None:
                    out[(cap_id, standard_id)] = (float(best[r, s]), bool(hit[r, s]))
        return out

    def current_state_by_function(self, params, data):
        """Filter of standards and counts of their duties per function (the current-state proxy)."""
        from findings.current_state import current_state_by_function

        return current_state_by_function(self, params, data)


def load_match_view(cycle: Cycle, threshold: float | None = None) -> MatchView | None:
    """The cycle's latest completed match run read at ``threshold`` (its own when None), or None."""
    run = selectors.latest_run(cycle)
    if run is None:
        return None
    return MatchView(cycle, run, run.threshold if threshold is None else threshold)


def start_match_run_url(cycle: Cycle) -> str:
    """Where a convener starts a match run."""
    return reverse("matching:runs", args=[cycle.slug])

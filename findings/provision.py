"""The findings' view of a match run: best matches, served capabilities, fit and surplus, priorities.

It is the only findings module that reads the matching app, through its selectors, so the
provision pages, the report and the exports share one reading of a run at one threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from cycles.models import Cycle

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
    """A completed match run of a cycle read at one threshold (see provision_matching)."""

    def __init__(self, *, cycle: Cycle, run, threshold: float, framework_label: str, default_threshold: float):
        self.cycle = cycle
        self.run = run
        self.threshold = threshold
        self.framework_label = framework_label
        self.default_threshold = default_threshold
        self.standards: dict[int, StandardInfo] = {}

    def standards_considered(self) -> list[StandardInfo]:
        raise NotImplementedError

    def in_run(self, cap_id: int) -> bool:
        raise NotImplementedError

    def best_match(self, cap_id: int, fop=None) -> DutyScore | None:
        raise NotImplementedError

    def matches(self, cap_id: int, fop=None) -> list[DutyScore]:
        raise NotImplementedError

    def is_served(self, cap_id: int) -> bool:
        raise NotImplementedError

    def capabilities_without_provision(self) -> list[int]:
        raise NotImplementedError

    def fit_surplus(self, fop_id: int, limit: int | None = FIT_LIMIT) -> list[FitRow]:
        raise NotImplementedError

    def standard_cells(self, fop_id: int, cap_ids: list[int], standard_ids: list[int]) -> dict:
        raise NotImplementedError

    def priority(self, fop_id: int) -> tuple[int, int, float, StandardInfo | None] | None:
        """(capabilities in the run, without provision, max fit %, best standard) of a FOP."""
        raise NotImplementedError

    def current_state_by_function(self, params, data):
        """Filter of standards and counts of their duties per function (the current-state proxy)."""
        from findings.current_state import current_state_by_function

        return current_state_by_function(self, params, data)


def load_match_view(cycle: Cycle, threshold: float | None = None) -> MatchView | None:
    """The cycle's latest completed match run read at ``threshold`` (its own when None), or None."""
    try:
        from findings import provision_matching
    except ImportError:  # the matching app has not landed its selectors yet
        return None
    return provision_matching.build_match_view(cycle, threshold)


def start_match_run_url(cycle: Cycle) -> str | None:
    """Where a convener starts a match run, when the matching app offers that page."""
    from django.urls import NoReverseMatch, reverse

    for name in ("matching:run_start", "matching:runs", "matching:run_list"):
        try:
            return reverse(name, args=[cycle.slug])
        except NoReverseMatch:
            continue
    return None

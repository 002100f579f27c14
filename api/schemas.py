"""What the read API answers, field by field (the OpenAPI schema is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import RootModel

Cell = str | int | float | None


class ErrorOut(Schema):
    detail: str


class ValidationErrorOut(Schema):
    detail: list[dict[str, Any]]


class MeOut(Schema):
    email: str
    display_name: str
    cycles: int = Field(description="How many cycles the token reaches.")


class RoleLevelOut(Schema):
    id: int
    name: str
    academic_level_min: int
    academic_level_max: int


class PartnerOut(Schema):
    id: int
    name: str


class CycleOut(Schema):
    slug: str
    title: str
    challenge: str
    challenge_when: str
    sector: str
    phase: int = Field(description="1 Consider, 2 Identify, 3 Prepare, 4 Carry out, 5 Communicate, 6 Cause action.")
    phase_label: str
    role: str = Field(
        description="The caller's role in the cycle: convener, technologist, employer, educator or observer."
    )


class CycleDetailOut(CycleOut):
    role_levels: list[RoleLevelOut]
    partners: list[PartnerOut]


class CapabilityRef(Schema):
    id: int
    ref: str
    statement: str


class CapabilityOut(CapabilityRef):
    status: str
    function: str | None
    domain: str | None
    area: str | None
    partners: list[str]
    merged_into: str | None = Field(description="The ref of the capability this one was merged into.")
    highlighted: bool


class ConsensusStatsOut(Schema):
    round: int | None
    n: int
    median: float | None
    iqr: float | None
    agreement: float | None = Field(description="Share of answers in the modal value, 0–1.")


class ConsensusOut(Schema):
    capability: CapabilityRef
    role_level: RoleLevelOut
    outcome: str = Field(description="consensus, stable, no_consensus, or '' while undecided.")
    outcome_label: str
    round: int | None = Field(description="The round the outcome was reached in.")
    proficiency: int | None = Field(description="0 Not needed, 1 Awareness, 2 Practitioner, 3 Expert.")
    proficiency_label: str
    withheld: bool = Field(
        description="True when the last result has fewer answers than the anonymity floor: no value or statistics."
    )
    result: ConsensusStatsOut | None


class FopProficiencyOut(Schema):
    capability: CapabilityRef
    proficiency: int
    proficiency_label: str


class FopOut(Schema):
    id: int
    name: str
    label: str = Field(description="The name as pages show it (with its role level when two FOPs share a name).")
    description: str
    status: str
    source: str
    priority: bool
    role_level: RoleLevelOut | None
    proficiencies: list[FopProficiencyOut]


class MatchRunOut(Schema):
    id: int
    status: str
    framework: str
    framework_version: str
    model_name: str
    threshold: float
    level_window: int
    created_at: dt.datetime
    finished_at: dt.datetime | None


class MatchSummaryOut(Schema):
    threshold: float
    capabilities: int
    served: int
    without_provision: int


class MatchRunDetailOut(MatchRunOut):
    summary: MatchSummaryOut | None = Field(description="At the requested threshold; null until the run is done.")


class StandardOut(Schema):
    ref: str
    title: str
    level: int | None


class StatementOut(Schema):
    ref: str
    text: str
    standard: StandardOut | None


class CapabilityMatchOut(Schema):
    capability: CapabilityRef
    matched: bool = Field(description="Served by a statement within the capability's level window (reviews count).")
    score: float | None = Field(description="Similarity of the best statement, 0–1.")
    best: StatementOut | None
    review: str | None = Field(description="An educator's decision on the best statement: confirm or reject.")
    window: list[int] | None = Field(description="The academic levels compared, [lowest, highest].")


class TableRow(RootModel[dict[str, Cell]]):
    """One row of a findings table: each cell by its column's key."""


class FindingsPageRef(Schema):
    key: str
    title: str
    group: str
    description: str
    uses_matching: bool


class ColumnOut(Schema):
    key: str
    label: str = Field(description="The column's name as the page and its CSV write it (unique within the table).")
    kind: str


class TableOut(Schema):
    key: str
    title: str
    columns: list[ColumnOut]
    rows: int


class FigureOut(Schema):
    label: str
    value: Cell
    note: str


class FilterOut(Schema):
    name: str
    label: str
    kind: str
    choices: list[list[str]]
    value: Cell | list[str]


class FindingsPageOut(Schema):
    key: str
    title: str
    notice: str
    missing: str = Field(description="What the cycle lacks for this page (empty when nothing).")
    needs_match_run: bool
    figures: list[FigureOut]
    filters: list[FilterOut] = Field(description="Query parameters the page's tables accept (pass them to /tables/).")
    tables: list[TableOut]

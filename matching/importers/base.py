"""What every importer shares: the parsed shape, the error, and the one-transaction writer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from matching.embeddings import text_hash
from matching.models import Framework, FrameworkVersion, Standard, Statement, WorkActivity

FRAMEWORK_NAMES = {
    Framework.Kind.IFATE: "Skills England (IfATE) apprenticeship standards",
    Framework.Kind.ONET: "O*NET occupations and tasks",
    Framework.Kind.ESCO: "ESCO occupations and skills",
}
BULK = 2000


class FrameworkImportError(ValueError):
    """A source that cannot be imported; the message names the file, record and field."""


@dataclass
class ParsedStandard:
    ref: str
    title: str
    level: int | None = None
    route: str = ""
    status: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class ParsedStatement:
    standard_ref: str | None
    ref: str
    kind: str
    text: str
    extra: dict = field(default_factory=dict)


@dataclass
class ParsedActivity:
    ref: str
    level: str
    title: str
    parent_ref: str | None = None
    statement_refs: list[str] = field(default_factory=list)


@dataclass
class ParsedFramework:
    kind: str
    label: str
    source: str
    checksum: str
    has_levels: bool
    standards: list[ParsedStandard]
    statements: list[ParsedStatement]
    activities: list[ParsedActivity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportOutcome:
    version: FrameworkVersion
    created: bool
    notes: list[str]

    @property
    def message(self) -> str:
        counts = ", ".join(f"{value:,} {name}" for name, value in self.version.counts.items())
        if not self.created:
            return f"{self.version} is already imported (same checksum); nothing changed."
        return f"Imported {self.version}: {counts}."


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _free_label(framework: Framework, label: str) -> str:
    taken = set(framework.versions.values_list("label", flat=True))
    if label not in taken:
        return label
    n = 2
    while f"{label} ({n})" in taken:
        n += 1
    return f"{label} ({n})"


def save_framework(parsed: ParsedFramework, *, user=None) -> ImportOutcome:
    """Write a parsed framework as a new version, all or nothing."""
    with transaction.atomic():
        framework, _ = Framework.objects.get_or_create(
            kind=parsed.kind, defaults={"name": FRAMEWORK_NAMES.get(parsed.kind, parsed.kind)}
        )
        existing = framework.versions.filter(checksum=parsed.checksum).first()
        if existing is not None:
            return ImportOutcome(version=existing, created=False, notes=parsed.notes)
        kinds: dict[str, int] = {}
        for statement in parsed.statements:
            kinds[statement.kind] = kinds.get(statement.kind, 0) + 1
        counts = {"standards": len(parsed.standards)}
        counts.update({f"{kind} statements": n for kind, n in sorted(kinds.items())})
        if parsed.activities:
            counts["work activities"] = len(parsed.activities)
        version = FrameworkVersion.objects.create(
            framework=framework,
            label=_free_label(framework, parsed.label),
            source=parsed.source[:500],
            checksum=parsed.checksum,
            has_levels=parsed.has_levels,
            counts=counts,
            imported_by=user,
        )
        Standard.objects.bulk_create(
            [
                Standard(
                    version=version,
                    ref=s.ref,
                    title=s.title[:400],
                    level=s.level,
                    route=s.route[:300],
                    status=s.status[:60],
                    extra=s.extra,
                )
                for s in parsed.standards
            ],
            batch_size=BULK,
        )
        standard_ids = dict(Standard.objects.filter(version=version).values_list("ref", "id"))
        Statement.objects.bulk_create(
            [
                Statement(
                    version=version,
                    standard_id=standard_ids[s.standard_ref] if s.standard_ref is not None else None,
                    ref=s.ref,
                    kind=s.kind,
                    text=s.text,
                    text_hash=text_hash(s.text),
                    extra=s.extra,
                )
                for s in parsed.statements
            ],
            batch_size=BULK,
        )
        if parsed.activities:
            _save_activities(version, parsed.activities)
    return ImportOutcome(version=version, created=True, notes=parsed.notes)


def _save_activities(version: FrameworkVersion, activities: list[ParsedActivity]) -> None:
    WorkActivity.objects.bulk_create(
        [WorkActivity(version=version, ref=a.ref, level=a.level, title=a.title[:400]) for a in activities],
        batch_size=BULK,
    )
    ids = dict(WorkActivity.objects.filter(version=version).values_list("ref", "id"))
    parents = [WorkActivity(id=ids[a.ref], parent_id=ids[a.parent_ref]) for a in activities if a.parent_ref is not None]
    WorkActivity.objects.bulk_update(parents, ["parent"], batch_size=BULK)
    statement_ids = dict(Statement.objects.filter(version=version, standard__isnull=False).values_list("ref", "id"))
    through = WorkActivity.statements.through
    links = []
    for activity in activities:
        for ref in activity.statement_refs:
            links.append(through(workactivity_id=ids[activity.ref], statement_id=statement_ids[ref]))
    through.objects.bulk_create(links, batch_size=BULK, ignore_conflicts=True)


def import_framework(
    kind: str, source: str, *, label: str | None = None, user=None, progress: Callable[[int, str], None] | None = None
) -> ImportOutcome:
    """Parse ``source`` with the importer for ``kind`` and save it (all or nothing). ``progress``
    hears (per cent, what is happening) before each of the two steps: reading and writing."""
    from matching.importers import esco, ifate, onet

    parsers = {Framework.Kind.IFATE: ifate.parse, Framework.Kind.ONET: onet.parse, Framework.Kind.ESCO: esco.parse}
    if kind not in parsers:
        raise FrameworkImportError(f"Unknown framework {kind!r}: use one of {', '.join(parsers)}.")
    if progress is not None:
        progress(10, "Reading and checking the files")
    parsed = parsers[kind](source, label=label)
    if progress is not None:
        progress(50, f"Writing {len(parsed.standards):,} standards and {len(parsed.statements):,} statements")
    return save_framework(parsed, user=user)

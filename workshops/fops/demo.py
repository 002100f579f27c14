"""Demo FOPs and tag frequencies of the two published cycles (called from workshops.demo.load).

- point of care (poc_manufacturing_2025): its 33 published FOPs with the 102 published
  proficiencies, as ratified FOPs from the published report (20 of them priority), and the
  report's tag-frequency tables (24–25) as PublishedTagFrequency;
- digitalisation (cgt_digitalisation_2024): its 25 FOPs with their role levels (the report
  prints no capabilities for them).

Idempotent: a published FOP is looked up by cycle and name; running it again changes nothing.
Every FOP is created through ``fop_create``, so its history starts with a verifiable snapshot.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from cycles.models import Cycle, RoleLevel
from workshops.fops.services import fop_create
from workshops.models import FOP, Capability, PublishedTagFrequency, TagKind

FOP_CYCLES = ["poc_manufacturing_2025", "cgt_digitalisation_2024"]
# The digitalisation report prints role levels as a prefix ("Scientists - …"); its role-level list
# names them in full.
ROLE_LEVEL_PREFIX = "Cell and Gene (C&G) "
UNKNOWN_CAPABILITY = "{slug}: fop_proficiencies names capability {ref!r}, which is not loaded."
UNKNOWN_FOP = "{slug}: fop_proficiencies names FOP {fop!r}, which is not in its fops list."
TAG_KINDS = {"knowledge": TagKind.KNOWLEDGE, "skills": TagKind.SKILL, "behaviours": TagKind.BEHAVIOUR}


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _read(data_dir: Path, slug: str) -> dict:
    with (Path(data_dir) / "seed_cycles" / f"{slug}.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def _role_level(cycle: Cycle, printed: str | None) -> RoleLevel | None:
    if not printed:
        return None
    levels = {rl.name: rl for rl in RoleLevel.objects.filter(cycle=cycle)}
    return levels.get(printed) or levels.get(ROLE_LEVEL_PREFIX + printed)


@transaction.atomic
def load_published_fops(data_dir: Path, slug: str, stdout=None) -> int:
    cycle = Cycle.objects.filter(slug=slug).first()
    if cycle is None:
        _say(stdout, f"  FOPs: cycle {slug} not loaded yet, skipped")
        return 0
    data = _read(data_dir, slug)
    names = {f["name"] for f in data.get("fops") or []}
    refs = {c.ref: c.pk for c in Capability.objects.filter(cycle=cycle)}
    entries: dict[str, dict[int, int]] = {name: {} for name in names}
    for row in data.get("fop_proficiencies") or []:
        if row["fop"] not in names:
            raise ValueError(UNKNOWN_FOP.format(slug=slug, fop=row["fop"]))
        if row["capability_ref"] not in refs:
            raise ValueError(UNKNOWN_CAPABILITY.format(slug=slug, ref=row["capability_ref"]))
        entries[row["fop"]][refs[row["capability_ref"]]] = int(row["value"])
    existing = set(FOP.objects.filter(cycle=cycle, source=FOP.Source.PUBLISHED).values_list("name", flat=True))
    created = 0
    for spec in data.get("fops") or []:
        if spec["name"] in existing:
            continue
        fop_create(
            cycle=cycle,
            actor=None,
            name=spec["name"],
            role_level=_role_level(cycle, spec.get("role_level")),
            description=spec.get("description") or "",
            entries=entries[spec["name"]],
            priority=bool(spec.get("priority")),
            source=FOP.Source.PUBLISHED,
            status=FOP.Status.RATIFIED,
            reason="Published report",
            action="import",
        )
        created += 1
    total = FOP.objects.filter(cycle=cycle, source=FOP.Source.PUBLISHED).count()
    _say(stdout, f"  FOPs: {total} published FOPs of {slug} ({created} new)")
    return created


@transaction.atomic
def load_tag_frequencies(data_dir: Path, slug: str, stdout=None) -> int:
    cycle = Cycle.objects.filter(slug=slug).first()
    if cycle is None:
        return 0
    tables = _read(data_dir, slug).get("tag_frequencies") or {}
    count = 0
    for key, rows in tables.items():
        kind = TAG_KINDS.get(key)
        if kind is None:
            continue
        for row in rows:
            PublishedTagFrequency.objects.update_or_create(
                cycle=cycle, kind=kind, tag=row["tag"], defaults={"count": int(row["count"])}
            )
            count += 1
    if count:
        _say(stdout, f"  tag frequencies: {count} published rows of {slug}")
    return count


def load(data_dir: Path, stdout=None) -> None:
    for slug in FOP_CYCLES:
        load_published_fops(data_dir, slug, stdout)
        load_tag_frequencies(data_dir, slug, stdout)

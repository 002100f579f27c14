"""ESCO from the official download zips (CSV, English), read straight from the zips.

Occupations (with their ISCO group) become the framework's standards and their *essential*
skills/competences its statements. Every skill and knowledge concept is kept as a statement
without a standard (skill type, reuse level, transversal and other collections), for the
capability library and KSB suggestions.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from matching.importers.base import FrameworkImportError, ParsedFramework, ParsedStandard, ParsedStatement, sha256_of
from matching.models import Framework, Statement

SKILLS = "skills_en.csv"
OCCUPATIONS = "occupations_en.csv"
RELATIONS = "occupationSkillRelations.csv"
ISCO = "ISCOGroups_en.csv"
COLLECTIONS = {
    "transversal": "transversalSkillsCollection_en.csv",
    "digital": "digitalSkillsCollection_en.csv",
    "green": "greenSkillsCollection_en.csv",
    "language": "languageSkillsCollection_en.csv",
    "research": "researchSkillsCollection_en.csv",
    "digcomp": "digCompSkillsCollection_en.csv",
}
SKILL_TYPES = {
    "skill/competence": Statement.Kind.SKILL,
    "knowledge": Statement.Kind.KNOWLEDGE,
    "": Statement.Kind.SKILL,
}


class _Members:
    """CSV members by base name across the given zips."""

    def __init__(self, zips: list[Path]):
        self.where: dict[str, tuple[zipfile.ZipFile, str]] = {}
        self.paths = zips
        for path in zips:
            try:
                archive = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise FrameworkImportError(f"{path.name}: not a readable zip ({exc}) – is the file truncated?") from exc
            for name in archive.namelist():
                self.where.setdefault(PurePosixPath(name).name, (archive, name))

    def has(self, name: str) -> bool:
        return name in self.where

    def rows(self, name: str, required: list[str], what: str) -> list[dict[str, str]]:
        if name not in self.where:
            raise FrameworkImportError(f"ESCO: the file '{name}' is not in {', '.join(p.name for p in self.paths)}.")
        archive, member = self.where[name]
        try:
            data = archive.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise FrameworkImportError(
                f"{name} in {Path(archive.filename).name}: cannot be read ({exc}) – is the zip truncated?"
            ) from exc
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        header = reader.fieldnames or []
        for column in required:
            if column not in header:
                raise FrameworkImportError(f"{name}: column '{column}' is missing from the header.")
        rows = []
        line = reader.line_num + 1  # where the next record starts (a quoted field may span lines)
        for row in reader:
            start, line = line, reader.line_num + 1
            if None in row.values() or None in row:
                raise FrameworkImportError(
                    f"{name} line {start} ({what} {row.get('conceptUri') or row.get('occupationUri') or '?'}): "
                    "the row has the wrong number of fields – is the file truncated?"
                )
            for column in required:
                if not (row.get(column) or "").strip():
                    label = row.get("preferredLabel") or row.get("conceptUri") or row.get("occupationUri") or "?"
                    raise FrameworkImportError(f"{name} line {start} ({what} {label!r}): field '{column}' is missing.")
            rows.append(row)
        return rows


def _labels(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n|\|", value or "") if part.strip()]


def _zips(source: str) -> list[Path]:
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        zips = sorted(path.glob("*.zip"))
        if zips:
            return zips
    raise FrameworkImportError(f"{source}: no ESCO zip files there (give the folder of the official CSV zips).")


def parse(source: str, *, label: str | None = None) -> ParsedFramework:
    zips = _zips(source)
    members = _Members(zips)
    isco = {}
    if members.has(ISCO):
        for row in members.rows(ISCO, ["code", "preferredLabel"], "ISCO group"):
            isco[row["code"].strip()] = row["preferredLabel"].strip()
    collections: dict[str, list[str]] = {}
    for key, name in COLLECTIONS.items():
        if members.has(name):
            for row in members.rows(name, ["conceptUri"], "skill"):
                collections.setdefault(row["conceptUri"].strip(), []).append(key)

    statements: list[ParsedStatement] = []
    skills: dict[str, tuple[str, str]] = {}
    for row in members.rows(SKILLS, ["conceptUri", "preferredLabel"], "skill"):
        uri = row["conceptUri"].strip()
        skill_type = (row.get("skillType") or "").strip()
        if skill_type not in SKILL_TYPES:
            raise FrameworkImportError(
                f"{SKILLS}: skill {row['preferredLabel']!r} ({uri}): field 'skillType' is {skill_type!r}, "
                "expected 'skill/competence' or 'knowledge'."
            )
        text = row["preferredLabel"].strip()
        skills[uri] = (text, skill_type)
        in_collections = collections.get(uri, [])
        extra = {
            "skill_type": skill_type,
            "reuse_level": (row.get("reuseLevel") or "").strip(),
            "transversal": "transversal" in in_collections or (row.get("reuseLevel") or "").strip() == "transversal",
            "collections": in_collections,
            "description": (row.get("description") or "").strip(),
            "alt_labels": _labels(row.get("altLabels", ""))[:20],
        }
        statements.append(ParsedStatement(None, uri, SKILL_TYPES[skill_type], text, extra))

    standards: list[ParsedStandard] = []
    occupations: set[str] = set()
    for row in members.rows(OCCUPATIONS, ["conceptUri", "preferredLabel"], "occupation"):
        uri = row["conceptUri"].strip()
        group = (row.get("iscoGroup") or "").strip()
        occupations.add(uri)
        standards.append(
            ParsedStandard(
                ref=uri,
                title=row["preferredLabel"].strip(),
                route=isco.get(group, ""),
                extra={
                    "isco_group": group,
                    "code": (row.get("code") or "").strip(),
                    "description": (row.get("description") or "").strip(),
                    "alt_labels": _labels(row.get("altLabels", ""))[:20],
                },
            )
        )

    skipped, dangling, pairs = 0, set(), set()
    for row in members.rows(RELATIONS, ["occupationUri", "relationType", "skillUri"], "relation of occupation"):
        if row["relationType"].strip() != "essential":
            continue
        occupation, skill = row["occupationUri"].strip(), row["skillUri"].strip()
        # The official release links a few concepts it does not publish (67 links of one
        # occupation in v1.1.1): skipped and reported, not a reason to refuse the whole set.
        if occupation not in occupations or skill not in skills:
            dangling.add(occupation if occupation not in occupations else skill)
            skipped += 1
            continue
        text, skill_type = skills[skill]
        if skill_type == "knowledge" or (occupation, skill) in pairs:
            continue
        pairs.add((occupation, skill))
        statements.append(
            ParsedStatement(occupation, skill, Statement.Kind.ESSENTIAL_SKILL, text, {"skill_type": skill_type})
        )

    notes = []
    if skipped:
        notes.append(
            f"{skipped} essential links to {len(dangling)} concepts missing from {OCCUPATIONS}/{SKILLS} were skipped."
        )
    match = re.search(r"v(\d+(?:\.\d+)*)", " ".join(p.name for p in zips))
    return ParsedFramework(
        kind=Framework.Kind.ESCO,
        label=label or (f"ESCO v{match.group(1)}" if match else "ESCO"),
        source=str(Path(source)),
        checksum=sha256_of(zips),
        has_levels=False,
        standards=standards,
        statements=statements,
        notes=notes,
    )

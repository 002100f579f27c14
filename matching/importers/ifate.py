"""Skills England (formerly IfATE) apprenticeship standards, from the API's JSON.

Reads both shapes:
- the 2020 extract (``larsCode``, ``title``, ``level``, ``route``, ``duties[{dutyID, dutyDetail,
  isThisACoreDuty, mappedKnowledge, mappedSkills, mappedBehaviour}]``, ``skills[{skillId, detail}]``),
  which has no ST reference numbers;
- the current API (``referenceNumber``, ``version``, ``status``, ``knowledges[{knowledgeId,
  detail}]``, ``skills[{skillId, detail}]``, ``behaviours[{behaviourId, detail}]``, duties mapping
  K/S/B by id through ``mappedKnowledge``/``mappedSkills``/``mappedBehaviour`` or a ``ksbs`` list).
When several versions of one reference are present, the highest version is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.request
from datetime import date
from pathlib import Path

from matching.importers.base import FrameworkImportError, ParsedFramework, ParsedStandard, ParsedStatement
from matching.models import Framework, Statement

LEVELS = range(2, 8)
LIST_KEYS = ("standards", "results", "data", "items", "apprenticeshipStandards")
KSB_LISTS = (
    ("knowledges", "knowledgeId", Statement.Kind.KNOWLEDGE, "K"),
    ("skills", "skillId", Statement.Kind.SKILL, "S"),
    ("behaviours", "behaviourId", Statement.Kind.BEHAVIOUR, "B"),
)
DUTY_MAPPINGS = (("mappedKnowledge", "knowledge"), ("mappedSkills", "skills"), ("mappedBehaviour", "behaviours"))


def _read(source: str) -> tuple[bytes, str, str]:
    """Bytes, a printable source and a default label."""
    if re.match(r"^https?://", source):
        try:
            with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 (http(s) only)
                raw = response.read()
        except OSError as exc:
            raise FrameworkImportError(f"{source}: could not be fetched ({exc}).") from exc
        return raw, source, f"API {date.today().isoformat()}"
    path = Path(source)
    if not path.is_file():
        raise FrameworkImportError(f"{source}: no such file.")
    return path.read_bytes(), str(path), path.stem


def _records(raw: bytes, source: str) -> list:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FrameworkImportError(f"{source}: not UTF-8 text ({exc}).") from exc
    except json.JSONDecodeError as exc:
        raise FrameworkImportError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}) – is the file truncated?"
        ) from exc
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return data[key]
        if "title" in data:
            return [data]
        raise FrameworkImportError(f"{source}: expected a list of standards (or an object with 'standards').")
    if not isinstance(data, list):
        raise FrameworkImportError(f"{source}: expected a list of standards.")
    return data


def _describe(record: dict, index: int) -> str:
    title = record.get("title") if isinstance(record, dict) else None
    ids = []
    if isinstance(record, dict):
        if record.get("referenceNumber"):
            ids.append(str(record["referenceNumber"]))
        if record.get("larsCode") not in (None, "", 0):
            ids.append(f"larsCode {record['larsCode']}")
    where = f" ({', '.join(ids)})" if ids else f" (record {index + 1})"
    return f"standard {title!r}{where}" if title else f"standard{where}"


def _version_key(value) -> tuple:
    parts = re.findall(r"\d+", str(value or ""))
    return tuple(int(p) for p in parts) or (0,)


def _text(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def _level(record: dict, name: str) -> int:
    value = record.get("level")
    if value is None or value == "":
        raise FrameworkImportError(f"{name}: field 'level' is missing.")
    try:
        level = int(str(value).strip())
    except ValueError:
        raise FrameworkImportError(f"{name}: field 'level' is {value!r}, expected a whole number 2–7.") from None
    if level not in LEVELS:
        raise FrameworkImportError(f"{name}: field 'level' is {level}, expected 2–7.")
    return level


def _id_list(value, name: str, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise FrameworkImportError(f"{name}: field '{field}' is not a list.")
    return [str(v) for v in value]


def _duty_ksbs(duty: dict, name: str) -> dict[str, list[str]]:
    mapped = {target: _id_list(duty.get(source), name, source) for source, target in DUTY_MAPPINGS}
    # Some API versions give one "ksbs" list of ids or {id|ksbId, type} objects instead.
    for entry in duty.get("ksbs") or []:
        if isinstance(entry, dict):
            ksb_id = entry.get("id") or entry.get("ksbId")
            kind = str(entry.get("type") or entry.get("ksbType") or "").lower()
            target = "knowledge" if kind.startswith("k") else "behaviours" if kind.startswith("b") else "skills"
        else:
            ksb_id, target = entry, "unknown"
        if ksb_id:
            mapped.setdefault(target, []).append(str(ksb_id))
    return mapped


def _parse_standard(record, index: int) -> tuple[str, ParsedStandard, list[ParsedStatement]]:
    if not isinstance(record, dict):
        raise FrameworkImportError(f"record {index + 1}: expected an object, found {type(record).__name__}.")
    name = _describe(record, index)
    title = _text(record.get("title"))
    if not title:
        raise FrameworkImportError(f"{name}: field 'title' is missing.")
    reference = _text(record.get("referenceNumber"))
    lars = record.get("larsCode")
    if not reference and lars in (None, "", 0):
        raise FrameworkImportError(f"{name}: field 'referenceNumber' (or 'larsCode') is missing.")
    ref = reference or f"LARS{lars}"
    level = _level(record, name)
    extra = {
        key: record.get(key)
        for key in (
            "larsCode",
            "version",
            "pathway",
            "overviewOfRole",
            "standardPageUrl",
            "typicalJobTitles",
            "keywords",
            "typicalDuration",
            "integratedDegree",
        )
        if record.get(key) not in (None, "", [])
    }
    standard = ParsedStandard(
        ref=ref,
        title=title,
        level=level,
        route=_text(record.get("route")),
        status=_text(record.get("status")),
        extra=extra,
    )
    statements: list[ParsedStatement] = []
    codes: dict[str, str] = {}
    for list_key, id_key, kind, prefix in KSB_LISTS:
        entries = record.get(list_key) or []
        if not isinstance(entries, list):
            raise FrameworkImportError(f"{name}: field '{list_key}' is not a list.")
        for n, entry in enumerate(entries, start=1):
            where = f"{name}: {list_key[:-1]} {n}"
            if not isinstance(entry, dict):
                raise FrameworkImportError(f"{where}: expected an object.")
            detail = _text(entry.get("detail"))
            if not detail:
                raise FrameworkImportError(f"{where}: field 'detail' is missing.")
            ksb_id = str(entry.get(id_key) or f"{prefix}{n}")
            codes[ksb_id] = f"{prefix}{n}"
            statements.append(ParsedStatement(ref, ksb_id, kind, detail, {"code": f"{prefix}{n}"}))
    duties = record.get("duties") or []
    if not isinstance(duties, list):
        raise FrameworkImportError(f"{name}: field 'duties' is not a list.")
    for n, duty in enumerate(duties, start=1):
        where = f"{name}: duty {n}"
        if not isinstance(duty, dict):
            raise FrameworkImportError(f"{where}: expected an object.")
        if duty.get("dutyID"):
            where += f" (dutyID {duty['dutyID']})"
        detail = _text(duty.get("dutyDetail"))
        if not detail:
            raise FrameworkImportError(f"{where}: field 'dutyDetail' is missing.")
        core = duty.get("isThisACoreDuty")
        if core not in (None, "", 0, 1, True, False, "0", "1"):
            raise FrameworkImportError(f"{where}: field 'isThisACoreDuty' is {core!r}, expected 0 or 1.")
        ksbs = _duty_ksbs(duty, where)
        extra = {
            "code": f"D{n}",
            "core": str(core) in {"1", "True"},
            "ksbs": {k: v for k, v in ksbs.items() if v},
            "ksb_codes": sorted({codes[i] for ids in ksbs.values() for i in ids if i in codes}, key=_code_order),
        }
        if duty.get("criteriaForMeasuringPerformance"):
            extra["criteria"] = _text(duty["criteriaForMeasuringPerformance"])
        statements.append(ParsedStatement(ref, str(duty.get("dutyID") or f"D{n}"), Statement.Kind.DUTY, detail, extra))
    return ref, standard, statements


def _code_order(code: str) -> tuple:
    return ("KSB".index(code[0]) if code[0] in "KSB" else 3, int(code[1:]) if code[1:].isdigit() else 0)


def parse(source: str, *, label: str | None = None) -> ParsedFramework:
    raw, where, default_label = _read(source)
    records = _records(raw, where)
    best: dict[str, tuple[tuple, ParsedStandard, list[ParsedStatement]]] = {}
    replaced = 0
    for index, record in enumerate(records):
        ref, standard, statements = _parse_standard(record, index)
        key = _version_key(record.get("version") or record.get("versionNumber"))
        if ref in best:
            replaced += 1
            if best[ref][0] >= key:
                continue
        best[ref] = (key, standard, statements)
    standards = [entry[1] for entry in best.values()]
    statements = [s for entry in best.values() for s in entry[2]]
    if not standards:
        raise FrameworkImportError(f"{where}: no standards found.")
    notes = [f"{replaced} older versions of a standard were skipped (highest version kept)."] if replaced else []
    return ParsedFramework(
        kind=Framework.Kind.IFATE,
        label=label or default_label,
        source=where,
        checksum=hashlib.sha256(raw).hexdigest(),
        has_levels=True,
        standards=standards,
        statements=statements,
        notes=notes,
    )

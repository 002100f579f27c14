"""Framework data for tests, written in the publishers' layouts and imported through the real
importers (``matching.importers``), so code that reads ESCO and O*NET meets them as users do."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction

from matching import embeddings
from matching.importers import import_framework
from matching.models import FrameworkVersion

ESCO_SKILL_HEADER = [
    "conceptType",
    "conceptUri",
    "skillType",
    "reuseLevel",
    "preferredLabel",
    "altLabels",
    "description",
]
ESCO_OCCUPATION_HEADER = [
    "conceptType",
    "conceptUri",
    "iscoGroup",
    "preferredLabel",
    "altLabels",
    "description",
    "code",
]
ESCO_RELATION_HEADER = ["occupationUri", "relationType", "skillType", "skillUri"]


def _csv(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def write_esco(
    folder: Path,
    *,
    occupations: Iterable[tuple[str, str, str]] = (),
    skills: Iterable[tuple[str, str]] = (),
    transversal: Iterable[str] = (),
) -> Path:
    """The two ESCO v1.1.1 zips in ``folder``: occupations as (label, description, code), skills as
    (skill type, label) and the labels of the skills in the transversal collection."""
    folder.mkdir(parents=True, exist_ok=True)
    skill_rows = [
        ["KnowledgeSkillCompetence", f"http://esco/skill/{n}", skill_type, "", label, "", ""]
        for n, (skill_type, label) in enumerate(skills, start=1)
    ]
    uris = {row[4]: row[1] for row in skill_rows}
    occupation_rows = [
        ["Occupation", f"http://esco/occupation/{n}", code.split(".")[0], label, "", description, code]
        for n, (label, description, code) in enumerate(occupations, start=1)
    ]
    collection = [["conceptType", "conceptUri", "preferredLabel"]] + [
        ["KnowledgeSkillCompetence", uris[label], label] for label in transversal
    ]
    with zipfile.ZipFile(folder / "ESCO_v1.1.1_classification_en_csv.zip", "w") as z:
        z.writestr("skills_en.csv", _csv([ESCO_SKILL_HEADER, *skill_rows]))
        z.writestr("occupations_en.csv", _csv([ESCO_OCCUPATION_HEADER, *occupation_rows]))
        z.writestr("transversalSkillsCollection_en.csv", _csv(collection))
    with zipfile.ZipFile(folder / "ESCO_v1.1.1_relations_csv.zip", "w") as z:
        z.writestr("occupationSkillRelations.csv", _csv([ESCO_RELATION_HEADER]))
    return folder


def write_onet(folder: Path, occupations: Iterable[tuple[str, str, str]]) -> Path:
    """An O*NET text release in ``folder`` with occupations as (SOC code, title, description) and
    one task each."""
    folder.mkdir(parents=True, exist_ok=True)
    occupations = list(occupations)
    (folder / "Occupation Data.txt").write_text(
        "O*NET-SOC Code\tTitle\tDescription\n" + "".join(f"{c}\t{t}\t{d}\n" for c, t, d in occupations),
        encoding="utf-8",
    )
    (folder / "Task Statements.txt").write_text(
        "O*NET-SOC Code\tTask ID\tTask\tTask Type\n"
        + "".join(f"{c}\t{n}\tWork as a {t}.\tCore\n" for n, (c, t, _) in enumerate(occupations, start=1)),
        encoding="utf-8",
    )
    return folder


@contextmanager
def imported_for_module(django_db_blocker, kind: str, source: Path) -> Iterator[FrameworkVersion]:
    """Import a framework once for a whole test module (pair with a ``scope="module"`` fixture that
    asks for ``django_db_setup``): inside a transaction rolled back when the module ends, so its
    rows and their embeddings never reach other modules; every test still runs in its own
    savepoint (the ``db`` fixture)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            embeddings.forget_corpora()
            yield import_framework(kind, str(source)).version
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            embeddings.forget_corpora()

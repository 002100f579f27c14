import csv
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from matching.importers import FrameworkImportError, import_framework
from matching.models import FrameworkVersion, Standard, Statement, WorkActivity

pytestmark = pytest.mark.django_db

OCCUPATIONS = [
    ["O*NET-SOC Code", "Title", "Description"],
    ["11-1011.00", "Chief Executives", "Run things."],
    ["19-4021.00", "Biological Technicians", "Assist scientists."],
]
TASKS = [
    ["O*NET-SOC Code", "Title", "Task ID", "Task", "Task Type", "Incumbents Responding", "Date", "Domain Source"],
    ["11-1011.00", "Chief Executives", "8823", "Direct financial activities.", "Core", "95.0", "08/2023", "Incumbent"],
    [
        "19-4021.00",
        "Biological Technicians",
        "1001",
        "Calibrate laboratory equipment.",
        "Supplemental",
        "",
        "08/2023",
        "Analyst",
    ],
]
IWA = [
    ["Element ID", "Element Name", "IWA ID", "IWA Title"],
    ["4.A.1", "Getting Information", "4.A.1.I01", "Study details."],
]
DWA = [
    ["Element ID", "Element Name", "IWA ID", "IWA Title", "DWA ID", "DWA Title"],
    ["4.A.1", "Getting Information", "4.A.1.I01", "Study details.", "4.A.1.I01.D01", "Review materials."],
]
LINKS = [["O*NET-SOC Code", "Title", "Task ID", "Task", "DWA ID", "DWA Title", "Date", "Domain Source"], ["19-4021.00", "Biological Technicians", "1001", "Calibrate laboratory equipment.", "4.A.1.I01.D01", "Review materials.", "", ""]]  # fmt: skip


def _tsv(path, rows):
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")


@pytest.fixture
def onet_dir(tmp_path):
    folder = tmp_path / "onet"
    folder.mkdir()
    _tsv(folder / "Occupation Data.txt", OCCUPATIONS)
    _tsv(folder / "Task Statements.txt", TASKS)
    _tsv(folder / "IWA Reference.txt", IWA)
    _tsv(folder / "DWA Reference.txt", DWA)
    _tsv(folder / "Tasks to DWAs.txt", LINKS)
    (folder / "Read Me.txt").write_text("O*NET 29.3 Database\nMay 2025 Release\n", encoding="utf-8")
    return folder


def _counts():
    return (
        FrameworkVersion.objects.count(),
        Standard.objects.count(),
        Statement.objects.count(),
        WorkActivity.objects.count(),
    )


def test_onet_occupations_tasks_and_the_work_activity_hierarchy_are_imported(onet_dir):
    outcome = import_framework("onet", str(onet_dir))
    assert outcome.version.label == "O*NET 29.3" and not outcome.version.has_levels
    task = Statement.objects.get(ref="1001")
    assert (task.kind, task.extra["type"], task.standard.title) == ("task", "supplemental", "Biological Technicians")
    dwa = WorkActivity.objects.get(level="dwa")
    assert dwa.parent.parent.title == "Getting Information"
    assert list(dwa.statements.all()) == [task]
    assert not import_framework("onet", str(onet_dir)).created


def test_a_truncated_onet_file_is_refused_naming_the_line_record_and_field(onet_dir):
    text = (onet_dir / "Task Statements.txt").read_text()
    (onet_dir / "Task Statements.txt").write_text(text[: text.index("Calibrate") + 9], encoding="utf-8")
    with pytest.raises(FrameworkImportError) as error:
        import_framework("onet", str(onet_dir))
    assert str(error.value).startswith(
        "Task Statements.txt line 3 (task 1001 of 19-4021.00): field 'Task Type' is missing"
    )
    assert _counts() == (0, 0, 0, 0)


def test_an_onet_task_of_an_unknown_occupation_is_refused(onet_dir):
    _tsv(onet_dir / "Task Statements.txt", [*TASKS, ["99-9999.00", "Nobody", "5", "Do it.", "Core", "", "", ""]])
    with pytest.raises(
        CommandError,
        match=r"Task Statements\.txt: task 5: field 'O\*NET-SOC Code' is 99-9999\.00, not a known occupation",
    ):
        call_command("import_framework", "onet", str(onet_dir))
    assert _counts() == (0, 0, 0, 0)


SKILLS = [
    ["conceptType", "conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels", "description"],
    [
        "KnowledgeSkillCompetence",
        "http://esco/skill/1",
        "skill/competence",
        "sector-specific",
        "calibrate laboratory equipment",
        "calibrate lab kit\ncheck instruments",
        "Calibrate it.",
    ],
    ["KnowledgeSkillCompetence", "http://esco/skill/2", "knowledge", "cross-sector", "microbiology", "", "Microbes."],
    [
        "KnowledgeSkillCompetence",
        "http://esco/skill/3",
        "skill/competence",
        "transversal",
        "show initiative",
        "",
        "Be proactive.",
    ],
]
OCCS = [
    ["conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "description", "code"],
    ["Occupation", "http://esco/occupation/1", "3141", "laboratory technician", "lab tech", "Works in labs.", "3141.1"],
]
ISCO = [
    ["conceptType", "conceptUri", "code", "preferredLabel"],
    ["ISCOGroup", "http://esco/isco/C3141", "3141", "Life science technicians"],
]
TRANSVERSAL = [
    ["conceptType", "conceptUri", "preferredLabel"],
    ["KnowledgeSkillCompetence", "http://esco/skill/3", "show initiative"],
]
RELATIONS = [
    ["occupationUri", "relationType", "skillType", "skillUri"],
    ["http://esco/occupation/1", "essential", "skill/competence", "http://esco/skill/1"],
    ["http://esco/occupation/1", "essential", "knowledge", "http://esco/skill/2"],
    ["http://esco/occupation/1", "optional", "skill/competence", "http://esco/skill/3"],
]  # fmt: skip


def _csv(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


@pytest.fixture
def esco_dir(tmp_path):
    folder = tmp_path / "esco"
    folder.mkdir()
    with zipfile.ZipFile(folder / "ESCO_v1.1.1_classification_en_csv.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("skills_en.csv", _csv(SKILLS))
        z.writestr("occupations_en.csv", _csv(OCCS))
        z.writestr("ISCOGroups_en.csv", _csv(ISCO))
        z.writestr("transversalSkillsCollection_en.csv", _csv(TRANSVERSAL))
    with zipfile.ZipFile(folder / "ESCO_v1.1.1_relations_csv.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("occupationSkillRelations.csv", _csv(RELATIONS))
    return folder


def test_esco_occupations_essential_skills_and_concepts_are_read_from_the_zips(esco_dir):
    outcome = import_framework("esco", str(esco_dir))
    assert outcome.version.label == "ESCO v1.1.1"
    occupation = Standard.objects.get()
    assert (occupation.title, occupation.route, occupation.extra["isco_group"]) == (
        "laboratory technician",
        "Life science technicians",
        "3141",
    )
    (essential,) = occupation.statements.all()
    assert (essential.kind, essential.text) == ("essential_skill", "calibrate laboratory equipment")
    concepts = {s.text: s for s in Statement.objects.filter(standard__isnull=True)}
    assert concepts["microbiology"].kind == "knowledge"
    assert concepts["show initiative"].extra["transversal"] is True
    assert concepts["calibrate laboratory equipment"].extra["alt_labels"] == ["calibrate lab kit", "check instruments"]


def test_a_truncated_esco_zip_is_refused_and_nothing_is_imported(esco_dir):
    path = esco_dir / "ESCO_v1.1.1_classification_en_csv.zip"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        FrameworkImportError,
        match=r"ESCO_v1\.1\.1_classification_en_csv\.zip: not a readable zip .* is the file truncated\?",
    ):
        import_framework("esco", str(esco_dir))
    assert _counts() == (0, 0, 0, 0)


def test_an_esco_skill_without_a_label_is_refused_naming_the_record_and_field(esco_dir):
    rows = [r[:] for r in SKILLS]
    rows[2][4] = ""
    with zipfile.ZipFile(esco_dir / "ESCO_v1.1.1_classification_en_csv.zip", "w") as z:
        z.writestr("skills_en.csv", _csv(rows))
        z.writestr("occupations_en.csv", _csv(OCCS))
    with pytest.raises(
        FrameworkImportError,
        match=r"skills_en\.csv line 4 \(skill 'http://esco/skill/2'\): field 'preferredLabel' is missing",
    ):
        import_framework("esco", str(esco_dir))
    assert _counts() == (0, 0, 0, 0)

import json

import pytest
from django.core.management import CommandError, call_command

from matching.importers import FrameworkImportError, import_framework
from matching.models import Framework, FrameworkVersion, Standard, Statement

pytestmark = pytest.mark.django_db


def _standard(**overrides):
    record = {
        "larsCode": 123,
        "title": "Laboratory scientist",
        "level": 5,
        "route": "Health and science",
        "duties": [
            {
                "dutyID": "d-1",
                "dutyDetail": "Carry out laboratory tests to agreed procedures",
                "isThisACoreDuty": 1,
                "mappedKnowledge": [],
                "mappedSkills": ["s-1"],
                "mappedBehaviour": [],
            }
        ],
        "skills": [{"skillId": "s-1", "detail": "Use laboratory equipment safely"}],
    }
    record.update(overrides)
    return record


def _write(tmp_path, data, name="standards.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _counts():
    return FrameworkVersion.objects.count(), Standard.objects.count(), Statement.objects.count()


def test_it_imports_standards_duties_and_their_ksb_mapping(tmp_path):
    outcome = import_framework("ifate", str(_write(tmp_path, [_standard()])))
    assert outcome.created
    standard = Standard.objects.get()
    assert (standard.ref, standard.level, standard.route) == ("LARS123", 5, "Health and science")
    duty = Statement.objects.get(kind=Statement.Kind.DUTY)
    assert duty.extra["core"] is True
    assert duty.extra["ksbs"] == {"skills": ["s-1"]}
    assert duty.extra["ksb_codes"] == ["S1"]
    assert Statement.objects.get(kind=Statement.Kind.SKILL).text == "Use laboratory equipment safely"


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = _write(tmp_path, [_standard()])
    import_framework("ifate", str(path))
    before = _counts()
    outcome = import_framework("ifate", str(path))
    assert not outcome.created
    assert _counts() == before


def test_a_changed_file_is_added_as_a_new_version_beside_the_old(tmp_path):
    import_framework("ifate", str(_write(tmp_path, [_standard()])))
    import_framework("ifate", str(_write(tmp_path, [_standard(title="Laboratory technician")])))
    versions = FrameworkVersion.objects.filter(framework__kind="ifate")
    assert versions.count() == 2
    assert sorted(versions.values_list("label", flat=True)) == ["standards", "standards (2)"]
    assert Framework.objects.get(kind="ifate").latest_version().standards.get().title == "Laboratory technician"


def test_an_impossible_level_is_refused_naming_the_record_and_field(tmp_path):
    path = _write(tmp_path, [_standard(title="Bicycle mechanic", larsCode=7, level=2), _standard(level=9)])
    with pytest.raises(FrameworkImportError) as error:
        import_framework("ifate", str(path))
    assert str(error.value) == "standard 'Laboratory scientist' (larsCode 123): field 'level' is 9, expected 2–7."
    assert _counts() == (0, 0, 0)


def test_a_missing_required_field_is_refused_naming_the_record_and_field(tmp_path):
    duty = {"dutyID": "d-9", "dutyDetail": "", "isThisACoreDuty": 0}
    path = _write(tmp_path, [_standard(duties=[duty])])
    with pytest.raises(
        FrameworkImportError,
        match=r"standard 'Laboratory scientist' \(larsCode 123\): duty 1 \(dutyID d-9\): field 'dutyDetail' is missing",
    ):
        import_framework("ifate", str(path))
    record = _standard()
    del record["title"]
    with pytest.raises(FrameworkImportError, match=r"standard \(larsCode 123\): field 'title' is missing"):
        import_framework("ifate", str(_write(tmp_path, [record])))
    assert _counts() == (0, 0, 0)


def test_a_truncated_file_is_refused_and_nothing_is_imported(tmp_path):
    text = json.dumps([_standard(), _standard(larsCode=124, title="Other")])
    path = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(
        CommandError, match=r"Nothing was imported\. .*standards\.json: not valid JSON .* is the file truncated\?"
    ):
        call_command("import_framework", "ifate", str(path))
    assert _counts() == (0, 0, 0)


def test_the_current_api_shape_keeps_the_highest_version_per_reference(tmp_path):
    def api(version, title):
        return {
            "referenceNumber": "ST0001",
            "version": version,
            "status": "Approved for delivery",
            "title": title,
            "level": 3,
            "larsCode": 1,
            "route": "Digital",
            "knowledges": [{"knowledgeId": "k-a", "detail": "Networking principles"}],
            "skills": [{"skillId": "s-a", "detail": "Configure a router"}],
            "behaviours": [{"behaviourId": "b-a", "detail": "Works safely"}],
            "duties": [
                {
                    "dutyID": "d-a",
                    "dutyDetail": "Install network hardware",
                    "isThisACoreDuty": 1,
                    "mappedKnowledge": ["k-a"],
                    "mappedSkills": ["s-a"],
                    "mappedBehaviour": ["b-a"],
                }
            ],
        }

    path = _write(tmp_path, {"standards": [api("1.0", "Old title"), api("1.10", "Newest"), api("1.2", "Middle")]})
    outcome = import_framework("ifate", str(path))
    standard = Standard.objects.get()
    assert (standard.ref, standard.title, standard.status) == ("ST0001", "Newest", "Approved for delivery")
    assert outcome.notes
    duty = Statement.objects.get(kind="duty")
    assert duty.extra["ksb_codes"] == ["K1", "S1", "B1"]
    assert set(Statement.objects.values_list("kind", flat=True)) == {"duty", "knowledge", "skill", "behaviour"}

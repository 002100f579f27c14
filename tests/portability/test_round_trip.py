"""export_cycle and import_cycle: a cycle survives a move to an empty database with nothing lost."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import Organisation
from cycles.models import Cycle, Theme
from findings import portability
from findings.portability import PortabilityError, cycle_export, cycle_import, cycle_models
from tests.portability.fixtures import build_rich_cycle, fill_missing, rows_in_cycle
from workshops.models import Function, Tag, Vote

User = get_user_model()


def _empty_the_database():
    """What a fresh installation holds: no cycles, people, organisations, taxonomy or tags."""
    Cycle.objects.all().delete()
    Tag.objects.update(merged_into=None)
    Tag.objects.all().delete()
    Function.objects.all().delete()
    User.objects.all().delete()
    Organisation.objects.all().delete()


@pytest.fixture
def rich_cycle(personas):
    return build_rich_cycle(personas)


def test_every_model_that_belongs_to_a_cycle_has_rows_in_the_round_trip_cycle(rich_cycle):
    assert fill_missing(rich_cycle) == {}
    empty = [model._meta.label for model in cycle_models() if rows_in_cycle(model, rich_cycle) == 0]
    assert empty == []


def test_an_export_imported_into_an_empty_database_exports_the_same_document(rich_cycle):
    first = cycle_export(cycle=rich_cycle)
    counts = {label: len(rows) for label, rows in first["models"].items()}
    _empty_the_database()
    assert not Vote.objects.exists()

    restored = cycle_import(data=json.loads(portability.dumps(first)))
    second = cycle_export(cycle=restored)

    print("\nrows per model:", counts)
    assert second == first
    assert all(n > 0 for n in counts.values()), counts


def test_the_export_holds_every_part_of_the_cycle_and_nothing_of_another(rich_cycle, personas):
    data = cycle_export(cycle=rich_cycle)
    models = data["models"]
    assert len(models["workshops.vote"]) == 13
    assert {row["fields"]["title"] for row in models["cycles.theme"]} == {"Automation at scale"}
    assert Theme.objects.filter(cycle=personas.other_cycle).exists()
    emails = {entry["key"][0] for entry in data["references"]["accounts.user"]}
    assert personas.outsider.email not in emails
    assert {"convener@a.test", "technologist@a.test", "employer@a.test"} <= emails


def test_the_export_never_contains_passwords_or_staff_flags(rich_cycle):
    text = portability.dumps(cycle_export(cycle=rich_cycle))
    for secret in ["password", "pbkdf2", "is_superuser", "is_staff", "last_login"]:
        assert secret not in text


def test_imported_people_get_no_usable_password_and_existing_people_keep_theirs(rich_cycle, personas, password):
    data = cycle_export(cycle=rich_cycle)
    Cycle.objects.all().delete()
    User.objects.exclude(email="convener@a.test").delete()

    cycle_import(data=data)

    assert User.objects.get(email="convener@a.test").check_password(password)
    technologist = User.objects.get(email="technologist@a.test")
    assert not technologist.has_usable_password()
    assert technologist.memberships.get(cycle__slug="cycle-a").role == "technologist"


def test_the_taxonomy_and_tags_are_matched_by_name_not_duplicated(rich_cycle):
    data = cycle_export(cycle=rich_cycle)
    Cycle.objects.filter(pk=rich_cycle.pk).delete()

    cycle_import(data=data)

    assert Function.objects.filter(name="Design").count() == 1
    assert Tag.objects.filter(normalised="qa").count() == 1


def test_importing_a_cycle_that_already_exists_is_refused_and_changes_nothing(rich_cycle):
    data = cycle_export(cycle=rich_cycle)
    before = Vote.objects.count()
    with pytest.raises(PortabilityError, match="already exists"):
        cycle_import(data=data)
    assert Vote.objects.count() == before


def test_a_file_with_a_bad_row_is_refused_whole(rich_cycle):
    data = cycle_export(cycle=rich_cycle)
    _empty_the_database()
    data["models"]["workshops.vote"][-1]["fields"]["round"] = 99

    with pytest.raises(PortabilityError, match="workshops.vote row"):
        cycle_import(data=data)

    assert not Cycle.objects.exists()
    assert not User.objects.exists()


def test_a_file_from_an_unknown_schema_is_refused(rich_cycle):
    data = cycle_export(cycle=rich_cycle)
    data["models"]["nowhere.thing"] = []
    with pytest.raises(PortabilityError, match="does not have"):
        cycle_import(data=data)
    data = cycle_export(cycle=rich_cycle)
    Cycle.objects.all().delete()
    data["models"]["cycles.theme"][0]["fields"]["colour"] = "red"
    with pytest.raises(PortabilityError, match="colour"):
        cycle_import(data=data)


def test_the_commands_write_and_read_the_file(rich_cycle, tmp_path):
    path = tmp_path / "cycle-a.json"
    call_command("export_cycle", "cycle-a", str(path))
    exported = json.loads(path.read_text())
    _empty_the_database()

    call_command("import_cycle", str(path))

    again = tmp_path / "again.json"
    call_command("export_cycle", "cycle-a", str(again))
    assert json.loads(again.read_text()) == exported


def test_the_commands_explain_what_is_wrong(db, tmp_path):
    with pytest.raises(CommandError, match="No cycle with the slug 'nope'"):
        call_command("export_cycle", "nope", str(tmp_path / "x.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("import_cycle", str(bad))
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(CommandError, match="not a cycle export"):
        call_command("import_cycle", str(other))

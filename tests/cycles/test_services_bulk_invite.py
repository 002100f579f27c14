"""Bulk invitations from CSV: all rows or none, with every problem named by row and field."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cycles import services
from cycles.models import AuditEvent, Invitation
from cycles.services import members

pytestmark = pytest.mark.django_db

HEADER = "name,email,organisation,group,role\n"


def upload(text: str, name: str = "people.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_a_good_file_invites_everyone(personas):
    csv = (
        HEADER + "Ada,ada@example.test,Engines,technology,technologist\nGrace,grace@example.test,Navy,skills,Educator\n"
    )
    created = services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)
    assert sorted(i.email for i in created) == ["ada@example.test", "grace@example.test"]
    assert Invitation.objects.get(email="grace@example.test").role == "educator"
    assert AuditEvent.objects.filter(verb="invitation.bulk_sent").count() == 1


def test_a_file_with_a_bad_row_creates_nothing_and_names_the_row_and_field(personas):
    csv = (
        HEADER
        + "Ada,ada@example.test,Engines,technology,technologist\n"
        + "Bad,not-an-email,Somewhere,industry,employer\n"
        + "Role,role@example.test,Somewhere,industry,wizard\n"
    )
    with pytest.raises(services.BulkInviteError) as excinfo:
        services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)
    errors = [(e.row, e.field) for e in excinfo.value.errors]
    assert errors == [(3, "email"), (4, "role")]
    assert "Row 3, email" in str(excinfo.value.errors[0])
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="invitation").exists()


def test_duplicates_in_the_file_and_existing_members_are_row_errors(personas):
    csv = (
        HEADER
        + "A,a@example.test,,,observer\n"
        + "A again,A@example.test,,,observer\n"
        + f"Member,{personas.employer.email},,,employer\n"
    )
    with pytest.raises(services.BulkInviteError) as excinfo:
        services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)
    messages = [str(e) for e in excinfo.value.errors]
    assert messages[0].startswith("Row 3, email") and "first on row 2" in messages[0]
    assert messages[1].startswith("Row 4, email") and "already a member" in messages[1]
    assert not Invitation.objects.exists()


def test_an_unknown_group_is_named(personas):
    csv = HEADER + "A,a@example.test,Org,aliens,observer\n"
    with pytest.raises(services.BulkInviteError) as excinfo:
        services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)
    assert (excinfo.value.errors[0].row, excinfo.value.errors[0].field) == (2, "group")


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ("name,email\nA,a@example.test\n", "people.csv", "missing: organisation, group, role"),
        (HEADER, "people.csv", members.CSV_EMPTY),
        (HEADER + "A,a@example.test,,,observer\n", "people.xlsx", members.CSV_NOT_CSV),
    ],
)
def test_a_malformed_file_is_refused_with_a_reason(personas, content, name, expected):
    with pytest.raises(services.BulkInviteError) as excinfo:
        services.invitations_bulk_create(
            cycle=personas.cycle, upload=upload(content, name), invited_by=personas.convener
        )
    assert expected in str(excinfo.value.errors[0])
    assert not Invitation.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(personas):
    f = SimpleUploadedFile("people.csv", (HEADER + "Zoë,z@example.test,,,observer\n").encode("utf-16"))
    with pytest.raises(services.BulkInviteError, match="UTF-8"):
        services.invitations_bulk_create(cycle=personas.cycle, upload=f, invited_by=personas.convener)


def test_a_file_over_the_size_limit_is_refused(personas, settings):
    settings.MAX_UPLOAD_BYTES = 100
    csv = HEADER + "".join(f"P{i},p{i}@example.test,,,observer\n" for i in range(20))
    with pytest.raises(services.BulkInviteError, match="larger than"):
        services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)
    assert not Invitation.objects.exists()


def test_too_many_rows_are_refused(personas, monkeypatch):
    monkeypatch.setattr(members, "CSV_MAX_ROWS", 3)
    csv = HEADER + "".join(f"P{i},p{i}@example.test,,,observer\n" for i in range(4))
    with pytest.raises(services.BulkInviteError, match="at most 3"):
        services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)


def test_a_byte_order_mark_and_blank_lines_are_tolerated(personas):
    csv = "\ufeff" + HEADER.upper() + "A,a@example.test,,,observer\n,,,,\n"
    created = services.invitations_bulk_create(cycle=personas.cycle, upload=upload(csv), invited_by=personas.convener)
    assert len(created) == 1

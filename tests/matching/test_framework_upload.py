"""A site administrator imports a framework version from the frameworks page: the page comes back
at once, a worker imports the files (all or nothing) and embeds the new version, and the import's
page shows queued / running / done / failed with the importer's message and a retry."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.jobs import JobStatus
from matching.models import FrameworkImport, FrameworkVersion, Standard
from tests.factories import UserFactory
from tests.matching.frameworks import write_onet

pytestmark = pytest.mark.django_db

STANDARD = {
    "larsCode": 321,
    "title": "Bioprocessing technician",
    "level": 4,
    "route": "Health and science",
    "duties": [
        {
            "dutyID": "d-1",
            "dutyDetail": "Operate and monitor bioreactors to agreed procedures",
            "isThisACoreDuty": 1,
            "mappedSkills": ["s-1"],
        }
    ],
    "skills": [{"skillId": "s-1", "detail": "Keep aseptic conditions in a production suite"}],
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(UserFactory(email="admin@site.test", is_staff=True))
    return client


def _json_upload(data=None, name="standards_2026.json") -> SimpleUploadedFile:
    raw = data if isinstance(data, bytes) else json.dumps([data or STANDARD]).encode()
    return SimpleUploadedFile(name, raw, content_type="application/json")


def _stored_files(media) -> list[str]:
    return sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _post(client, kind, files, label=""):
    return client.post(reverse("matching:frameworks"), {"kind": kind, "files": files, "label": label})


def test_an_upload_is_queued_and_the_page_comes_back_with_its_progress(admin_client, media):
    # The commit callbacks are not run: no worker has taken the job yet.
    response = _post(admin_client, "ifate", [_json_upload()])
    job = FrameworkImport.objects.get()
    assert response.status_code == 302 and response.url == reverse("matching:framework_import", args=[job.pk])
    assert job.status == JobStatus.QUEUED and job.file_names == ["standards_2026.json"]
    assert _stored_files(media) == ["standards_2026.json"], "the file waits for the worker"

    page = admin_client.get(response.url).content.decode()
    assert "Queued" in page and "waiting for a free worker" in page.lower()
    assert 'aria-valuenow="0"' in page and 'hx-trigger="every 1s"' in page
    polled = admin_client.get(response.url, headers={"HX-Request": "true"})
    assert polled.status_code == 200, "a queued import keeps polling"
    assert FrameworkVersion.objects.count() == 0


def test_the_worker_imports_the_file_embeds_it_and_the_page_says_so(
    admin_client, media, django_capture_on_commit_callbacks, embedding_model
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(admin_client, "ifate", [_json_upload()], label="standards 2026-11")
    job = FrameworkImport.objects.get()
    assert job.status == JobStatus.DONE, job.error
    version = job.version
    assert version.label == "standards 2026-11" and version.source == "Uploaded: standards_2026.json"
    assert version.imported_by.email == "admin@site.test"
    assert Standard.objects.get(version=version).title == "Bioprocessing technician"
    assert version.embedded_at is not None, "the new version is embedded next"
    assert _stored_files(media) == [], "the uploaded file is not kept once imported"

    page = admin_client.get(response.url).content.decode()
    assert "Imported" in page and "1 standards" in page and "Embedded:" in page
    polled = admin_client.get(response.url, headers={"HX-Request": "true"})
    assert polled.status_code == 286, "a finished, embedded import stops polling"
    listing = admin_client.get(reverse("matching:frameworks")).content.decode()
    assert "standards 2026-11" in listing and "Uploaded: standards_2026.json" in listing


def test_uploading_the_same_file_again_changes_nothing(admin_client, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(admin_client, "ifate", [_json_upload()])
    before = FrameworkVersion.objects.count()
    # The second import finds the checksum already there (no new version, nothing to embed).
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(admin_client, "ifate", [_json_upload()])
    job = FrameworkImport.objects.first()
    assert job.status == JobStatus.DONE and "already imported (same checksum); nothing changed" in job.outcome
    assert FrameworkVersion.objects.count() == before
    assert "nothing changed" in admin_client.get(response.url).content.decode()


def test_a_malformed_file_fails_with_the_importers_message_and_imports_nothing(
    admin_client, media, django_capture_on_commit_callbacks
):
    broken = b'[{"larsCode": 1, "title": "Truncated'
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(admin_client, "ifate", [_json_upload(broken, name="broken.json")])
    job = FrameworkImport.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Nothing was imported.") and "not valid JSON" in job.error
    assert "line 1" in job.error, "the message says where"
    assert FrameworkVersion.objects.count() == 0 and Standard.objects.count() == 0
    page = admin_client.get(response.url).content.decode()
    assert "The import failed." in page and "not valid JSON" in page
    assert "upload them again" in page and "Try again with the same files" not in page
    assert admin_client.get(response.url, headers={"HX-Request": "true"}).status_code == 286


def test_files_of_the_wrong_shape_are_refused_by_the_form_and_nothing_is_stored(admin_client, media):
    response = _post(admin_client, "ifate", [SimpleUploadedFile("standards.zip", b"PK")])
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Skills England (IfATE) standards come as one .json file, as the Skills England API" in page
        and "standards.zip" in page
    )
    response = _post(admin_client, "onet", [SimpleUploadedFile("Task Statements.txt", b"x")])
    assert response.status_code == 400 and "must include “Occupation Data.txt”" in response.content.decode()
    assert FrameworkImport.objects.count() == 0 and _stored_files(media) == []


def test_an_oversized_upload_is_refused_with_the_limit(admin_client, media, settings):
    settings.FRAMEWORK_UPLOAD_MAX_BYTES = 1024
    response = _post(admin_client, "ifate", [_json_upload(b"[" + b" " * 2048 + b"]")])
    assert response.status_code == 400 and "more than 1.0\xa0KB" in response.content.decode()
    assert FrameworkImport.objects.count() == 0


def test_the_official_onet_zip_is_unpacked_and_imported(
    admin_client, media, tmp_path, django_capture_on_commit_callbacks
):
    release = write_onet(tmp_path / "db_29_3_text", [("15-1252.00", "Software Developers", "Write software.")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:  # the release's files sit in a folder of their own
        for path in release.iterdir():
            z.write(path, f"db_29_3_text/{path.name}")
    upload = SimpleUploadedFile("db_29_3_text.zip", buffer.getvalue(), content_type="application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        _post(admin_client, "onet", [upload])
    job = FrameworkImport.objects.get()
    assert job.status == JobStatus.DONE, job.error
    assert job.version.label == "db_29_3_text"
    assert Standard.objects.get(version=job.version).title == "Software Developers"


def test_an_import_whose_worker_was_lost_is_failed_and_can_be_tried_again(
    admin_client, media, django_capture_on_commit_callbacks
):
    _post(admin_client, "ifate", [_json_upload()])  # queued; no worker takes it
    job = FrameworkImport.objects.get()
    FrameworkImport.claim(job.pk)  # a worker takes it and dies: nothing is heard from it again
    FrameworkImport.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    from core.tasks import fail_stale_jobs

    assert fail_stale_jobs()["matching.FrameworkImport"] == 1
    url = reverse("matching:framework_import", args=[job.pk])
    page = admin_client.get(url).content.decode()
    assert "The import failed." in page and "its worker probably stopped" in page.lower()
    assert "Try again with the same files" in page, "the files are still there"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("matching:framework_import_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.version is not None


def test_only_site_staff_may_import(personas, media):
    convener = personas.client_for(personas.convener)
    page = convener.get(reverse("matching:frameworks")).content.decode()
    assert "Import a new version" not in page
    assert _post(convener, "ifate", [_json_upload()]).status_code == 403
    assert FrameworkImport.objects.count() == 0 and _stored_files(media) == []

    job = FrameworkImport.objects.create(kind="ifate", files=[])
    assert convener.get(reverse("matching:framework_import", args=[job.pk])).status_code == 403
    assert convener.post(reverse("matching:framework_import_retry", args=[job.pk])).status_code == 403

"""Whole-cycle exports: the export_findings command and the browser's background export jobs."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from core.jobs import QUEUED_STALE_AFTER, STALE_AFTER
from core.spreadsheets import cell_safe
from findings.exports import ATTRIBUTION, README_NAME, all_pages, unique_labels
from findings.models import ExportJob
from findings.services import NEVER_FINISHED, export_job_run
from findings.tables import PAGES
from tests.findings.builders import POC
from tests.findings.conftest import client_for


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_export_findings_writes_every_table_as_csv_and_one_workbook(demo, tmp_path):
    out = tmp_path / "export"
    call_command("export_findings", POC, "--out", str(out))
    pages = all_pages(demo[POC])
    tables = [(p, t) for p in pages for t in p.tables]
    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) == len(tables)
    by_name = {path.name: path for path in csvs}
    for page, table in tables:
        name = f"{POC}-{page.key}.csv" if table is page.tables[0] else f"{POC}-{page.key}-{table.key}.csv"
        rows = list(csv.reader(io.StringIO(by_name[name].read_text(encoding="utf-8"), newline="")))
        # A plain table: the header, the rows, nothing after them.
        assert rows == [unique_labels(table.header), *([cell_safe(c) for c in r] for r in table.text_rows())]
    readme = (out / README_NAME).read_text(encoding="utf-8")
    assert all(name in readme for name in by_name)
    assert all(name in readme and licence in readme for name, licence in ATTRIBUTION)
    wb = load_workbook(out / f"{POC}-findings.xlsx")
    assert wb.sheetnames[0] == "About"
    assert len(wb.sheetnames) == 1 + len(tables)
    overview = [list(r) for r in wb.worksheets[1].iter_rows(values_only=True)]
    assert overview[0] == unique_labels(pages[0].tables[0].header)
    assert [r[2] for r in overview[1:]] == [row["count"] for row in pages[0].tables[0].rows]


def test_export_findings_refuses_an_unknown_cycle(db, tmp_path):
    with pytest.raises(CommandError, match="No cycle with the slug 'nope'"):
        call_command("export_findings", "nope", "--out", str(tmp_path))


def test_a_member_starts_a_workbook_export_and_polls_until_it_is_ready(
    mini, mini_people, media, django_capture_on_commit_callbacks
):
    client = client_for(mini_people["observer"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/cycles/mini/findings/exports/start/", {"kind": "workbook"})
    job = ExportJob.objects.get(cycle=mini["cycle"])
    assert response.status_code == 302 and response["Location"].endswith(f"/exports/{job.pk}/")
    assert job.status == ExportJob.Status.DONE and job.progress == 100
    fragment = client.get(f"/cycles/mini/findings/exports/{job.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 286  # htmx stops polling
    assert b"Ready" in fragment.content and b"every 1s" not in fragment.content
    download = client.get(f"/cycles/mini/findings/exports/{job.pk}/file/")
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert wb.sheetnames[0] == "About" and len(wb.sheetnames) > len(PAGES) // 2


def test_a_pending_job_shows_progress_and_keeps_polling(mini, mini_people, media):
    job = ExportJob.objects.create(
        cycle=mini["cycle"], kind="csv_zip", requested_by=mini_people["observer"], progress=40, status="running"
    )
    fragment = client_for(mini_people["observer"]).get(
        f"/cycles/mini/findings/exports/{job.pk}/", HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    assert b"every 1s" in fragment.content and b"40 %" in fragment.content
    assert client_for(mini_people["observer"]).get(f"/cycles/mini/findings/exports/{job.pk}/file/").status_code == 404


def test_a_csv_bundle_holds_a_file_per_table_and_the_attribution(
    mini, mini_people, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(mini_people["convener"]).post("/cycles/mini/findings/exports/start/", {"kind": "csv_zip"})
    job = ExportJob.objects.get(cycle=mini["cycle"])
    archive = zipfile.ZipFile(job.file.open("rb"))
    names = archive.namelist()
    assert "README.txt" in names and "mini-overview.csv" in names and "mini-ksb-top_knowledge.csv" in names
    readme = archive.read("README.txt").decode("utf-8")
    assert mini["cycle"].title in readme
    assert all(name in readme for name in names if name.endswith(".csv"))
    assert all(name in readme and licence in readme for name, licence in ATTRIBUTION)
    for name in names:
        if name.endswith(".csv"):
            text = archive.read(name).decode("utf-8")
            assert "Open Government Licence" not in text and "Data sources" not in text, name


def test_running_an_export_job_twice_builds_it_once(mini, mini_people, media):
    job = ExportJob.objects.create(cycle=mini["cycle"], kind="workbook", requested_by=mini_people["convener"])
    assert export_job_run(job_id=job.pk).status == ExportJob.Status.DONE
    first = ExportJob.objects.get(pk=job.pk).file.name
    assert export_job_run(job_id=job.pk) is None  # already claimed and finished: nothing to do
    assert ExportJob.objects.get(pk=job.pk).file.name == first


def test_a_failing_export_is_recorded_on_the_job(
    mini, mini_people, media, monkeypatch, django_capture_on_commit_callbacks
):
    from findings import exports

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "workbook_bytes", broken)
    job = ExportJob.objects.create(cycle=mini["cycle"], kind="workbook", requested_by=mini_people["convener"])
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "disk full" in job.error
    page = client_for(mini_people["convener"]).get(f"/cycles/mini/findings/exports/{job.pk}/")
    assert b"The export failed" in page.content and b"Try again" in page.content

    # "Try again" builds the same export (kind and filters) as a new job, this time whole.
    monkeypatch.undo()
    ExportJob.objects.filter(pk=job.pk).update(params={"role_level": ["1"]})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(mini_people["convener"]).post(f"/cycles/mini/findings/exports/{job.pk}/retry/")
    again = ExportJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302 and response["Location"].endswith(f"/exports/{again.pk}/")
    assert (again.kind, again.params, again.status) == ("workbook", {"role_level": ["1"]}, ExportJob.Status.DONE)


def test_exports_are_private_to_their_requester_and_conveners(mini, mini_people, media):
    job = ExportJob.objects.create(cycle=mini["cycle"], kind="workbook", requested_by=mini_people["technologist"])
    assert client_for(mini_people["observer"]).get(f"/cycles/mini/findings/exports/{job.pk}/").status_code == 403
    assert client_for(mini_people["convener"]).get(f"/cycles/mini/findings/exports/{job.pk}/").status_code == 200
    assert client_for(mini_people["outsider"]).get(f"/cycles/mini/findings/exports/{job.pk}/").status_code == 404
    assert client_for(None).get(f"/cycles/mini/findings/exports/{job.pk}/").status_code == 302


def test_an_unknown_export_kind_is_refused(mini, mini_people):
    response = client_for(mini_people["convener"]).post(
        "/cycles/mini/findings/exports/start/", {"kind": "nope"}, follow=True
    )
    assert "Choose what to export" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_old_finished_exports_and_their_files_are_pruned(mini, mini_people, media):
    from datetime import timedelta

    from django.utils import timezone

    from findings.services import export_jobs_prune

    job = ExportJob.objects.create(cycle=mini["cycle"], kind="workbook", requested_by=mini_people["convener"])
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    path = job.file.path
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=8))
    running = ExportJob.objects.create(
        cycle=mini["cycle"], kind="workbook", status="running", created_at=timezone.now() - timedelta(days=8)
    )
    assert export_jobs_prune(before=timezone.now() - timedelta(days=7)) == 1
    assert not ExportJob.objects.filter(pk=job.pk).exists() and ExportJob.objects.filter(pk=running.pk).exists()
    import os

    assert not os.path.exists(path)


def test_a_job_whose_worker_was_lost_is_built_by_the_next_delivery_and_a_live_one_is_not(mini, mini_people, media):
    long_ago = timezone.now() - STALE_AFTER - timedelta(minutes=1)
    lost = ExportJob.objects.create(
        cycle=mini["cycle"],
        kind="workbook",
        requested_by=mini_people["convener"],
        status="running",
        started_at=long_ago,
    )
    alive = ExportJob.objects.create(
        cycle=mini["cycle"], kind="workbook", requested_by=mini_people["convener"], status="running",
        started_at=long_ago, heartbeat_at=timezone.now(),
    )  # fmt: skip
    assert export_job_run(job_id=alive.pk) is None
    assert export_job_run(job_id=lost.pk).status == ExportJob.Status.DONE


def test_starting_an_export_fails_the_cycles_lost_ones_with_a_message(
    mini, mini_people, media, django_capture_on_commit_callbacks
):
    lost = ExportJob.objects.create(
        cycle=mini["cycle"], kind="workbook", requested_by=mini_people["convener"],
        created_at=timezone.now() - QUEUED_STALE_AFTER - timedelta(minutes=1),
    )  # fmt: skip
    waiting = ExportJob.objects.create(cycle=mini["cycle"], kind="csv_zip", requested_by=mini_people["convener"])
    client = client_for(mini_people["convener"])
    assert b"Waiting" in client.get("/cycles/mini/findings/exports/").content
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/cycles/mini/findings/exports/start/", {"kind": "workbook"})
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert lost.status == ExportJob.Status.FAILED and lost.error == NEVER_FINISHED
    assert waiting.status == ExportJob.Status.QUEUED
    assert NEVER_FINISHED.encode() in client.get(f"/cycles/mini/findings/exports/{lost.pk}/").content

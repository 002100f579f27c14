"""core.jobs: one claim and one staleness rule for every background-job model."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.jobs import QUEUED_STALE_AFTER, STALE_AFTER, TAKEN_OVER, BackgroundJob, JobStatus
from findings.models import ExportJob
from matching.models import Framework, FrameworkImport, MatchRun
from tests.factories import CycleFactory
from workshops.models import FOPProposalRun

LONG_AGO = STALE_AFTER + timedelta(minutes=1)
LATELY = STALE_AFTER / 2
NEVER_TAKEN = QUEUED_STALE_AFTER + timedelta(minutes=1)


def _match_run(cycle, **fields) -> MatchRun:
    framework, _ = Framework.objects.get_or_create(kind="ifate", defaults={"name": "Standards"})
    version, _ = framework.versions.get_or_create(label="v1", defaults={"source": "test", "checksum": "c" * 64})
    return MatchRun.objects.create(cycle=cycle, framework_version=version, model_name="m", threshold=0.5, **fields)


def _export_job(cycle, **fields) -> ExportJob:
    return ExportJob.objects.create(cycle=cycle, kind=ExportJob.Kind.WORKBOOK, **fields)


def _proposal_run(cycle, **fields) -> FOPProposalRun:
    return FOPProposalRun.objects.create(cycle=cycle, parameters={}, **fields)


def _framework_import(cycle, **fields) -> FrameworkImport:
    return FrameworkImport.objects.create(kind=Framework.Kind.IFATE, files=[], **fields)  # a site's, not a cycle's


MAKERS = {
    "match run": _match_run,
    "export job": _export_job,
    "FOP proposal run": _proposal_run,
    "framework import": _framework_import,
}


@pytest.fixture(params=list(MAKERS))
def make(request, db):
    cycle = CycleFactory()
    maker = MAKERS[request.param]
    return lambda **fields: maker(cycle, **fields)


def _ago(delta: timedelta):
    return timezone.now() - delta


def test_every_job_model_shares_the_one_status_vocabulary():
    for model in (MatchRun, ExportJob, FOPProposalRun, FrameworkImport):
        assert issubclass(model, BackgroundJob)
        assert model.Status is JobStatus
        assert model._meta.get_field("status").default == "queued"
        assert model._meta.get_field("status").choices == JobStatus.choices


def test_of_two_claims_of_one_queued_job_only_the_first_wins(make):
    job = make()
    assert job.status == JobStatus.QUEUED
    assert type(job).claim(job.pk) is True
    assert type(job).claim(job.pk) is False
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.started_at and job.heartbeat_at and job.progress == 1


def test_finished_jobs_are_never_claimed(make):
    for status in (JobStatus.DONE, JobStatus.FAILED):
        job = make(status=status, started_at=_ago(LONG_AGO), finished_at=_ago(LONG_AGO))
        assert type(job).claim(job.pk) is False
        job.refresh_from_db()
        assert job.status == status


def test_a_running_job_not_heard_from_is_taken_over_and_one_heard_from_lately_is_not(make):
    lost = make(status=JobStatus.RUNNING, started_at=_ago(LONG_AGO))
    # Started as long ago, but its progress reports show it is alive.
    alive = make(status=JobStatus.RUNNING, started_at=_ago(LONG_AGO), heartbeat_at=_ago(LATELY))
    model = type(lost)
    assert model.claim(alive.pk) is False
    assert model.claim(lost.pk) is True
    assert model.claim(lost.pk) is False  # now heard from: the second taker loses
    lost.refresh_from_db()
    assert lost.status == JobStatus.RUNNING and lost.progress_note == TAKEN_OVER
    assert lost.started_at > _ago(timedelta(minutes=1))


def test_progress_is_a_heartbeat_that_keeps_a_long_job_from_going_stale(make):
    job = make()
    model = type(job)
    model.claim(job.pk)
    model.objects.filter(pk=job.pk).update(started_at=_ago(LONG_AGO), heartbeat_at=_ago(LONG_AGO))
    assert model.report_progress(job.pk, 150, "Almost") is True
    job.refresh_from_db()
    assert job.progress == 99 and job.progress_note == "Almost"  # 100 is for finish
    assert model.claim(job.pk) is False and model.fail_stale() == 0


def test_one_rule_fails_lost_jobs_queued_or_running_and_nothing_else(make):
    never_picked_up = make(created_at=_ago(NEVER_TAKEN))
    behind_others = make(created_at=_ago(LONG_AGO))  # queued longer than a running job may go unheard
    lost = make(status=JobStatus.RUNNING, created_at=_ago(LONG_AGO), started_at=_ago(LONG_AGO))
    waiting = make(created_at=_ago(LATELY))
    alive = make(status=JobStatus.RUNNING, started_at=_ago(LONG_AGO), heartbeat_at=_ago(LATELY))
    requeued = make(status=JobStatus.DONE, created_at=_ago(timedelta(days=3)), finished_at=_ago(timedelta(days=2)))
    done = make(status=JobStatus.DONE, created_at=_ago(LONG_AGO), finished_at=_ago(LONG_AGO))
    model = type(lost)
    assert model.requeue(requeued.pk) is True  # queued again now: not lost, however old the row
    stale = {job.pk for job in model.objects.all() if job.is_stale}
    assert stale == {never_picked_up.pk, lost.pk}

    assert model.fail_stale(error="Lost.") == 2
    statuses = dict(model.objects.values_list("pk", "status"))
    assert statuses == {
        never_picked_up.pk: JobStatus.FAILED,
        lost.pk: JobStatus.FAILED,
        waiting.pk: JobStatus.QUEUED,
        behind_others.pk: JobStatus.QUEUED,
        alive.pk: JobStatus.RUNNING,
        requeued.pk: JobStatus.QUEUED,
        done.pk: JobStatus.DONE,
    }
    never_picked_up.refresh_from_db()
    assert never_picked_up.error == "Lost." and never_picked_up.finished_at
    assert model.claim(never_picked_up.pk) is False  # a late task finds it failed and does nothing


def test_finish_and_fail_apply_to_a_running_job_only(make):
    job = make()
    model = type(job)
    assert model.finish(job.pk) is False  # not claimed
    model.claim(job.pk)
    assert model.finish(job.pk) is True
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.progress == 100 and job.finished_at and job.is_finished
    assert model.fail(job.pk, "too late") is False
    assert model.requeue(job.pk) is True and model.claim(job.pk) is True
    assert model.fail(job.pk, "x" * 5000) is True
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and len(job.error) == 2000
    assert model.report_progress(job.pk, 50) is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", list(MAKERS))
def test_of_many_workers_claiming_one_job_at_once_exactly_one_wins(kind):
    job = MAKERS[kind](CycleFactory())
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(type(job).claim(job.pk))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and sorted(results) == [False] * (workers - 1) + [True]


def test_the_scheduled_sweep_fails_lost_jobs_of_every_kind_and_leaves_live_ones(db):
    from core.tasks import fail_stale_jobs

    cycle = CycleFactory()
    lost = [maker(cycle, status=JobStatus.RUNNING, started_at=_ago(LONG_AGO)) for maker in MAKERS.values()]
    live = [maker(cycle, status=JobStatus.RUNNING, started_at=_ago(LATELY)) for maker in MAKERS.values()]
    counts = fail_stale_jobs()
    assert counts == {
        "matching.MatchRun": 1,
        "findings.ExportJob": 1,
        "workshops.FOPProposalRun": 1,
        "matching.FrameworkImport": 1,
    }
    for job in lost:
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and job.error
    for job in live:
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_running_job_is_heard_from_while_a_long_step_stays_silent(monkeypatch):
    """kept_alive beats the heartbeat from its own thread: a job busy for longer than STALE_AFTER
    without reporting progress is never taken for lost, and the beats stop when the block ends."""
    import time

    from core import jobs

    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", timedelta(seconds=0.2))
    job = _match_run(CycleFactory(), status=JobStatus.RUNNING, started_at=_ago(LONG_AGO), heartbeat_at=_ago(LONG_AGO))
    assert MatchRun.objects.filter(jobs.stale_q(), pk=job.pk).exists()
    with MatchRun.kept_alive(job.pk):
        # The "silent step": the block reports nothing; the job is heard from all the same.
        deadline = time.monotonic() + 10
        while MatchRun.objects.filter(jobs.stale_q(), pk=job.pk).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not MatchRun.objects.filter(jobs.stale_q(), pk=job.pk).exists()
    # The beats stopped with the block: its thread is gone and the heartbeat no longer moves.
    assert not [t for t in threading.enumerate() if t.name.startswith("heartbeat-")]
    job.refresh_from_db()
    beaten = job.heartbeat_at
    time.sleep(0.5)
    job.refresh_from_db()
    assert job.heartbeat_at == beaten

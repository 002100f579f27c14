"""The embedded default with a real Celery worker (issue 12): a long job leaves the page at once,
shows its progress while a separate worker process computes it, and its result appears by itself.

Unlike the other browser tests (whose server runs tasks in-process), this one starts its own
daphne and a real worker as `make run` does, on the same test database: in the embedded default
the broker is kombu's SQLAlchemy transport on a SQLite file; in services mode it is Redis.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from django.db import connections
from playwright.sync_api import expect

from cycles.models import Membership, Role
from matching.importers import import_framework
from tests.factories import PASSWORD, CycleFactory, MembershipFactory, UserFactory
from tests.faults.services import PYTHON, ManagedProcess, celery_process, spare_port, wait_until
from tests.matching.frameworks import write_esco
from tests.workshops.fops.factories import build_needs
from workshops.models import FOP

pytestmark = pytest.mark.e2e

OCCUPATIONS = [
    (
        "cold chain logistics coordinator",
        "Coordinates refrigerated transport and storage of temperature-sensitive goods.",
    ),
    ("quality assurance manager", "Ensures products meet quality standards through audits and quality systems."),
    ("automation engineer", "Designs and programmes robotic and automated manufacturing systems."),
    ("data integration specialist", "Connects instruments and software systems so data flows to one platform."),
]


def _env(tmp_path) -> dict[str, str]:
    """The two processes' environment: this test database, a real broker, nothing in-process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
        env.pop("DATABASE_URL", None)
        env["CELERY_BROKER_SQLITE"] = str(tmp_path / "celery-broker.sqlite3")
    else:
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = url._replace(path=f"/{db['NAME']}").geturl()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "RATELIMIT_ENABLE": "false",
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def runserver_process(*, port: int, env: dict[str, str], log_dir) -> ManagedProcess:
    """The web server exactly as `make run` starts it (Procfile.run), static files included."""
    import urllib.request

    argv = [PYTHON, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:  # noqa: S310
            return response.status == 200

    return ManagedProcess("web", argv, env=env, log_dir=log_dir, ready=ready)


def beat_worker_process(*, env: dict[str, str], log_dir) -> ManagedProcess:
    """A worker with the beat schedule inside it, as Procfile.run starts it (-B)."""
    worker = celery_process(name="worker-beat", env=env, log_dir=log_dir)
    worker.argv[worker.argv.index("worker") + 1 : worker.argv.index("worker") + 1] = [
        "-B", "--schedule", str(log_dir / "celerybeat-schedule"),
    ]  # fmt: skip
    return worker


@pytest.fixture
def worker_site(transactional_db, tmp_path, settings):
    """The web server and a Celery worker, as `make run` starts them, on this test's database."""
    env = _env(tmp_path)
    port = spare_port()
    web = runserver_process(port=port, env=env, log_dir=tmp_path).start()
    worker = celery_process(name="worker", env=env, log_dir=tmp_path).start(timeout=120)
    yield f"http://127.0.0.1:{port}", worker
    for process in (web, worker):
        process.stop()


@pytest.fixture
def fast_sweep_site(transactional_db, tmp_path, settings):
    """As worker_site, with a job's heartbeat every second, lost after four and swept every second:
    the production values (30 s, 3 min, 1 min) in a test's time."""
    env = {**_env(tmp_path), "JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_AFTER_SECONDS": "4", "JOB_SWEEP_SECONDS": "1"}
    port = spare_port()
    processes = [runserver_process(port=port, env=env, log_dir=tmp_path).start()]
    yield f"http://127.0.0.1:{port}", env, tmp_path, processes
    for process in processes:
        process.stop()


def _convener(settings, tmp_path, occupations):
    # The server processes verify passwords with the production hashers, not the tests' MD5.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    cycle = CycleFactory(slug="worker-cycle")
    user = UserFactory(email="convener@worker.test")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(cycle=cycle, user=user, role=Role.CONVENER, status=Membership.Status.ACTIVE)
    build_needs(cycle)
    coded = [(name, text, f"{2000 + n}.1") for n, (name, text) in enumerate(occupations)]
    import_framework("esco", str(write_esco(tmp_path / "esco", occupations=coded)))
    return cycle, user


@pytest.fixture
def convener_of_a_large_corpus(transactional_db, settings, tmp_path):
    """As convener, with 3,000 more occupations: the worker's model is loaded when it starts, so the
    proposal's one slow part is embedding them the first time (seconds, with progress reported per
    batch), long enough to see it running, or to kill the worker in the middle of it."""
    extra = [
        (f"specialist of process {n}", f"Carries out and records step {n} of the plant's work.") for n in range(3000)
    ]
    return _convener(settings, tmp_path, OCCUPATIONS + extra)


def _log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_propose_fops_returns_at_once_shows_progress_and_the_worker_delivers(
    worker_site, convener_of_a_large_corpus, new_page
):
    # The large corpus: with the model loaded when the worker starts, a proposal over a handful of
    # occupations is done in a fraction of a second (CI saw it finished before the first check);
    # embedding 3,000 more the first time keeps it running for seconds.
    base, worker = worker_site
    cycle, user = convener_of_a_large_corpus
    page = new_page(base_url=base)
    _log_in(page, user)

    page.goto(f"/cycles/{cycle.slug}/fops/propose/")
    page.get_by_role("button", name="Propose FOPs").click()
    # The page is back before the work is done: it says the run is queued or running, in words
    # and a progress bar, and the worker (another process) has the job.
    status = page.locator("#fop-run-status")
    expect(status).to_contain_text(re.compile("Queued…|Proposing FOPs…"), timeout=5_000)
    expect(status.get_by_role("progressbar")).to_be_visible(timeout=5_000)
    assert not FOP.objects.filter(cycle=cycle).exists()

    # The box polls by itself; the proposals appear when the worker ends (model load included).
    expect(status).to_contain_text("Latest run done", timeout=180_000)
    assert FOP.objects.filter(cycle=cycle).exists()
    assert "propose_fops" in worker.log_text()


def test_a_job_whose_worker_is_killed_is_marked_failed_within_its_staleness_and_can_be_run_again(
    fast_sweep_site, convener_of_a_large_corpus, new_page
):
    import time

    from workshops.models import FOPProposalRun

    base, env, log_dir, processes = fast_sweep_site
    cycle, user = convener_of_a_large_corpus
    first = celery_process(name="worker", env=env, log_dir=log_dir).start(timeout=120)
    processes.append(first)
    page = new_page(base_url=base)
    _log_in(page, user)
    page.goto(f"/cycles/{cycle.slug}/fops/propose/")
    page.get_by_role("button", name="Propose FOPs").click()

    # The worker is embedding the occupations for the run (it has said so): kill it outright.
    deadline = time.monotonic() + 60
    embedding = FOPProposalRun.objects.filter(cycle=cycle, status="running", progress_note__startswith="Embedding")
    while not embedding.exists():
        assert time.monotonic() < deadline, first.log_tail()
        time.sleep(0.05)
    first.kill()
    # A worker comes back with the scheduler; within the staleness the sweep marks the run failed
    # and the page, polling by itself, says so in words.
    processes.append(beat_worker_process(env=env, log_dir=log_dir).start(timeout=120))
    status = page.locator("#fop-run-status")
    expect(status).to_contain_text("The latest run failed", timeout=60_000)
    expect(status).to_contain_text("The job never finished (its worker probably stopped)")
    assert not FOP.objects.filter(cycle=cycle).exists()

    # Started again, the new worker computes it.
    page.get_by_role("button", name="Propose FOPs").click()
    expect(page.locator("#fop-run-status")).to_contain_text("Latest run done", timeout=180_000)
    assert FOP.objects.filter(cycle=cycle).exists()


@pytest.fixture
def import_site(transactional_db, tmp_path, settings):
    """As worker_site, with the uploads in this test's folder (the server stores, the worker reads)."""
    env = {**_env(tmp_path), "MEDIA_ROOT": str(tmp_path / "media")}
    port = spare_port()
    web = runserver_process(port=port, env=env, log_dir=tmp_path).start()
    worker = celery_process(name="worker", env=env, log_dir=tmp_path).start(timeout=120)
    yield f"http://127.0.0.1:{port}", worker
    for process in (web, worker):
        process.stop()


def test_a_framework_uploaded_on_the_page_is_imported_and_embedded_by_the_worker(
    import_site, new_page, tmp_path, settings
):
    import json

    from matching.models import FrameworkVersion

    base, worker = import_site
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    admin = UserFactory(email="admin@worker.test", is_staff=True)
    admin.set_password(PASSWORD)
    admin.save()
    source = tmp_path / "standards_2026.json"
    duty = {"dutyID": "d-1", "dutyDetail": "Calibrate and maintain laboratory instruments", "mappedSkills": []}
    source.write_text(json.dumps([{"larsCode": 9, "title": "Lab technician", "level": 3, "duties": [duty]}]))

    page = new_page(base_url=base)
    _log_in(page, admin)
    page.goto("/matching/frameworks/")
    page.get_by_label("Framework").select_option("ifate")
    page.get_by_label("Files").set_input_files(str(source))
    page.get_by_role("button", name="Import").click()
    # Back at once on the import's own page, which follows the worker by itself.
    page.wait_for_url("**/matching/frameworks/imports/*/", timeout=5_000)
    status = page.locator("#import-status")
    expect(status).to_contain_text("Imported Skills England (IfATE)", timeout=60_000)
    expect(status).to_contain_text("Embedded:", timeout=120_000)
    version = FrameworkVersion.objects.get(framework__kind="ifate")
    assert version.source == "Uploaded: standards_2026.json"
    # Its statements are stored; the task marks the version once the titles are encoded too.
    wait_until(
        lambda: FrameworkVersion.objects.filter(pk=version.pk, embedded_at__isnull=False).exists(),
        timeout=60,
        what="the version marked embedded",
    )
    assert "framework_import_task" in worker.log_text()

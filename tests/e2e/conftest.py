"""Shared fixtures for real-browser tests: a live ASGI server and Debian's Chromium through Playwright.

How to write a browser test (mark it ``e2e``; it gets a fresh, flushed database)::

    import pytest

    pytestmark = pytest.mark.e2e

    def test_the_convener_sees_the_dashboard(server_url, new_page, login, personas):
        page = new_page()                      # a fresh browser context (own cookies) + page
        login(page, personas.convener.email)   # logs in through the real login form
        page.goto(f"{server_url}/cycles/")
        assert page.get_by_role("heading", name="Foresighting cycles").is_visible()

Fixtures
--------
``asgi_server``  (session) daphne serving ``config.asgi.application`` (HTTP *and* websockets) plus
                 static files, in a child process, on a free port of 127.0.0.1. ``.url``, ``.ws_url``;
                 ``.log_path``: the child's log records (WARNING and above, tracebacks included) are
                 also written to this file (``E2E_SERVER_LOG`` names it; else a temporary file), and
                 ``.log_size()`` / ``.log_since(offset)`` read what it logged after a point.
``server_url``   the server's base URL; also gives the test ``transactional_db``, because the
                 server runs in another process and only sees committed data (the database is
                 flushed after each test).
``browser``      (session) Chromium from /usr/bin/chromium, headless (never ``playwright install``).
``new_page``     factory: ``new_page(**context_options)`` opens a new browser context and page;
                 call it twice for two people at once (e.g. convener and invitee). Contexts are
                 closed after the test, and every open page is screenshotted into
                 ``test-artifacts/<test name>-<n>.png`` if the test failed.
``page``         one page from ``new_page()``.
``login``        ``login(page, email, password=PASSWORD)`` through the login form.
``browser_guard`` for a test that must meet no error anywhere: pages opened by
                 ``browser_guard.new_page(**options)`` (or passed to ``browser_guard.watch(page)``)
                 record every response of the server with a status of 400 or more, every console
                 error and every uncaught page error; when the test ends it fails on any of them
                 and on any ERROR record or traceback the server logged during the test.
                 ``browser_guard.check()`` asserts the same at a point of the test's choosing;
                 ``browser_guard.allow(status, url_regex)`` lets a refusal the test provokes on
                 purpose pass (its response and Chromium's console line about it).

Databases: SQLite in-memory test databases cannot be shared with another process, so when the
tests run on SQLite this conftest points the test database at a file (``TEST.NAME``) before it is
created; on PostgreSQL the child process simply uses the same test database. Celery tasks run
eagerly and rate limits are off inside the server process, as in the unit tests.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from daphne.testing import DaphneProcess

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEFAULT_TIMEOUT_MS = 15_000


def pytest_configure(config):
    """Before any test database exists: give SQLite a file so the server process can open it."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        test = db.setdefault("TEST", {})
        if not test.get("NAME") or ":memory:" in str(test.get("NAME")) or "mode=memory" in str(test.get("NAME")):
            test["NAME"] = str(Path(tempfile.gettempdir()) / f"foresight-test-{os.getpid()}.sqlite3")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop on the main thread for
    the whole session, which would stop pytest-asyncio tests that came after it."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API marks an event loop as running on this thread, so Django would refuse
    # the test body's (synchronous) ORM calls as "async context". Only for the browser tests.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- The live ASGI server -----------------------------------------------------------------------


def _make_application():
    from channels.routing import get_default_application
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    return ASGIStaticFilesHandler(get_default_application())


SERVER_LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


def _log_to_file(log_path: str) -> None:
    """Copy the server's log records (WARNING and above, with their tracebacks) into ``log_path``,
    beside the console handler that settings.LOGGING configured."""
    import logging

    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(SERVER_LOG_FORMAT))
    logging.getLogger().addHandler(handler)


def _child_setup(db_name: str, log_path: str | None = None) -> None:
    """Runs in the (spawned) server process before it serves: the test database, tests' settings."""
    from django.conf import settings
    from django.db import connections

    if log_path:
        _log_to_file(log_path)

    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DATABASES["default"]["NAME"] = db_name
    connections["default"].settings_dict["NAME"] = db_name
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1", "localhost"]
    settings.RATELIMIT_ENABLE = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Test users are hashed with MD5 (tests/conftest.py); demo users with the default hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    from config.celery import app

    app.conf.task_always_eager = True
    # The model is loaded before the server serves (waiting for the background load that
    # MATCHING_PRELOAD starts, if it has started): otherwise the first seconds of whichever test
    # came first would be slow, and which path a page takes (by meaning or by wording) would
    # depend on how far the loading had got.
    from matching.embeddings import get_model

    get_model()
    # Threads do not survive the fork: after async tests ran in this session, asgiref's executor
    # for thread-sensitive code (consumers' database_sync_to_async) would wait forever for the
    # parent's worker thread, and the parent's channel-layer state must not be shared either.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    channel_layers.backends = {}


@dataclass
class LiveServer:
    host: str
    port: int
    log_path: Path | None = None

    def log_size(self) -> int:
        """Where the server log ends now (an offset for ``log_since``)."""
        return self.log_path.stat().st_size if self.log_path and self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        """What the server logged after ``offset``."""
        if not self.log_path or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"


_SPAWN = multiprocessing.get_context("spawn")


class _SpawnedDaphne(DaphneProcess):
    """daphne's test process, started fresh ("spawn") rather than forked.

    A forked server inherits the test process's state after hundreds of tests: dead worker threads
    in asgiref's executors (the websocket consumers then hang), channel-layer queues bound to old
    event loops, open database and Redis sockets. A spawned one imports Django anew.
    """

    _start_method = "spawn"

    @staticmethod
    def _Popen(process_obj):
        return _SPAWN.Process._Popen(process_obj)

    def __init__(self, host, get_application, setup):
        multiprocessing.Process.__init__(self)
        self.host, self.get_application, self.setup, self.teardown = host, get_application, setup, None
        self.kwargs = {}
        self.port = _SPAWN.Value("i", 0)
        self.ready = _SPAWN.Event()
        self.errors = _SPAWN.Queue()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    from django.db import connections

    with django_db_blocker.unblock():
        db_name = connections["default"].settings_dict["NAME"]
    log_path = Path(os.environ.get("E2E_SERVER_LOG") or Path(tempfile.mkdtemp(prefix="e2e-server-")) / "server.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.touch()
    setup = partial(_child_setup, db_name, str(log_path))
    process = _SpawnedDaphne("127.0.0.1", _make_application, setup=setup)
    process.daemon = True
    process.start()
    if not process.ready.wait(timeout=60):
        detail = process.errors.get(timeout=1)[1] if not process.errors.empty() else "no error reported"
        process.terminate()
        raise RuntimeError(f"The ASGI test server did not start: {detail}")
    server = LiveServer("127.0.0.1", process.port.value, log_path)
    yield server
    process.terminate()
    process.join(timeout=10)
    if not os.environ.get("E2E_SERVER_LOG"):
        shutil.rmtree(log_path.parent, ignore_errors=True)


@pytest.fixture
def server_url(asgi_server, transactional_db) -> str:
    return asgi_server.url


# --- The browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(_playwright):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make browser installs Debian's package)")
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def new_page(browser, server_url, request):
    contexts = []

    def make(**options):
        options.setdefault("base_url", server_url)
        options.setdefault("viewport", {"width": 1366, "height": 900})
        options.setdefault("locale", "en-GB")
        options.setdefault("timezone_id", "Europe/London")
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make

    failed = any(
        getattr(request.node, f"rep_{when}", None) and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        n = 0
        for context in contexts:
            for page in context.pages:
                n += 1
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{_safe_name(request.node.nodeid)}-{n}.png"), full_page=True)
                except Exception as exc:  # a crashed page must not hide the test's own failure
                    print(f"screenshot {n} failed: {exc}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def login(server_url):
    from tests.factories import PASSWORD

    def do_login(page, email: str, password: str = PASSWORD):
        page.goto(f"{server_url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return do_login


# --- The guard: no error page, console error or server traceback -------------------------------

# A record in the server log starts with its time (SERVER_LOG_FORMAT); a traceback continues it.
_LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.MULTILINE)
_LOG_FAILURE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) |Traceback \(most recent call last\)")
# Chromium's console line for each response of 400 or more (the response itself is reported too).
_FAILED_RESOURCE = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")
# Known and open, so not a failure of the test that meets it: in services mode redis-py 8 reads with
# a 5 s socket timeout, the very time channels-redis's BZPOPMIN waits for a socket's next message,
# and an idle websocket's consumer can die with "Timeout reading from <redis>". Two fixes tried
# (a longer read timeout, a shorter wait) made a services-mode run hang in an event loop's teardown;
# see the closing note of session 4. Remove this once the layer is fixed.
_KNOWN_SERVER_ISSUES = [re.compile(r"Exception inside application: Timeout reading from \S+:6379")]
# daphne reports an exception that ended a connection (a websocket consumer's) from a check it
# runs every second: the guard waits that long before reading the log at the end of a test.
_SERVER_REPORTS_WITHIN_S = 1.2


@dataclass
class BrowserGuard:
    server: LiveServer
    open_page: object
    log_start: int = 0
    problems: list[str] = field(default_factory=list)
    allowed: list[tuple[int, re.Pattern]] = field(default_factory=list)

    def new_page(self, **options):
        return self.watch(self.open_page(**options))

    def watch(self, page):
        def on_console(message):
            if message.type != "error":
                return
            refused = _FAILED_RESOURCE.match(message.text)
            if refused and self._allowed(int(refused.group(1)), message.location.get("url", "")):
                return
            self.problems.append(f"console error on {page.url}: {message.text}")

        page.on("response", self._on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught error on {page.url}: {error}"))
        return page

    def allow(self, status: int, url_regex: str) -> None:
        self.allowed.append((status, re.compile(url_regex)))

    def _allowed(self, status: int, url: str) -> bool:
        return any(allowed == status and regex.search(url) for allowed, regex in self.allowed)

    def _on_response(self, response) -> None:
        if response.status < 400 or not response.url.startswith(self.server.url):
            return
        if self._allowed(response.status, response.url):
            return
        request = response.request
        self.problems.append(f"{response.status} for {request.method} {response.url} ({request.resource_type})")

    def server_failures(self) -> list[str]:
        """The ERROR/CRITICAL records and tracebacks the server logged since the guard started."""
        log = self.server.log_since(self.log_start)
        starts = [m.start() for m in _LOG_RECORD.finditer(log)]
        if log[: starts[0] if starts else len(log)].strip():
            starts.insert(0, 0)  # the end of a record being written when the guard started
        ends = [*starts[1:], len(log)] if starts else []
        records = [log[a:b].strip() for a, b in zip(starts, ends, strict=True)]
        return [
            f"server log: {record}"
            for record in records
            if _LOG_FAILURE.search(record) and not any(known.search(record) for known in _KNOWN_SERVER_ISSUES)
        ]

    def check(self, *, settle: bool = False) -> None:
        if settle:
            time.sleep(_SERVER_REPORTS_WITHIN_S)
        problems = [*self.problems, *self.server_failures()]
        assert not problems, "The browsers or the server met errors:\n" + "\n".join(problems)


@pytest.fixture
def browser_guard(asgi_server, new_page, request):
    guard = BrowserGuard(asgi_server, new_page, log_start=asgi_server.log_size())
    yield guard
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        # The test's own failure comes first; what the guard saw helps to explain it.
        problems = [*guard.problems, *guard.server_failures()]
        if problems:
            print("The browser guard also saw:\n" + "\n".join(problems))
        return
    guard.check(settle=True)

"""Fresh start: every page of a new `make run` while its background work runs (issue 12's target).

    .venv/bin/python bench/fresh_start.py [--requests 20] [--port 8840]

Builds a fresh embedded-default deployment as `make run` does, in a folder of its own under
$TMPDIR/foresight-fresh-start/: a new SQLite database and broker file, ``manage.py migrate --noinput`` and
``manage.py load_demo`` (which queues the worker's warm-up: ESCO, O*NET and the rest of the IfATE
standards embedded in the background), then — not part of `make run`, but the FOP proposal needs a consensus — the README's
``simulate_delphi poc_manufacturing_2025`` (tasks in-process, so the broker holds only what
`make run` queued), and starts ``Procfile.run`` with honcho (the web server and a worker with
beat; ``DEBUG_PAGES=false``, ``HOST``, ``PORT``). The Procfile is copied into the folder with its
beat schedule file moved there, so nothing is written into var/; the model export goes to a fresh
``MODEL_CACHE_DIR`` too, as on a new checkout (``--reuse-model-cache`` reads var/models instead).

Then, as plain HTTP clients logged in as the demo convener and educator (``requests``, real
sessions and CSRF), it GETs a list of the demo cycle's pages round-robin right after the server
answers, while the warm-up runs: dashboard, capture, library search, Delphi, FOP proposal, KSB
tags with a capability's suggestion fragments, reference frameworks, findings and match runs.
It POSTs "Propose FOPs" as the convener, times the POST, and keeps GETting the proposal page and
its polling fragment until the run ends; optionally waits for the warm-up to end and asks for the
suggestions again. Prints a Markdown table (p50/p95/max, status codes, what each page said), the
load average, what the server log shows (tracebacks, reloads) and a verdict against 1 s p95.

Everything it starts (honcho and its process groups) is stopped at the end, also on an error or
Ctrl-C. Contacts nothing but 127.0.0.1. Figures go to stdout; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HONCHO = str(ROOT / ".venv" / "bin" / "honcho")
WORK_BASE = Path(tempfile.gettempdir()) / "foresight-fresh-start"
PORTS = range(8840, 8850)
DEMO_CYCLE = "poc_manufacturing_2025"
PASSWORD = "foresight-demo"
CONVENER = "convener@demo.test"
EDUCATOR = "educator@demo.test"
TARGET_P95_MS = 1000.0
LIBRARY_QUERY = "monitor the cold chain temperature of cell therapy products"


def _say(message: str = "") -> None:
    print(message, flush=True)


def _stop_on_signal(signum, frame):
    # Background shells ignore SIGINT; turn SIGTERM/SIGINT into an exception so the finally
    # blocks stop every process this script started.
    raise KeyboardInterrupt(f"signal {signum}")


def _loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _free_port(wanted: int | None) -> int:
    candidates = [wanted] if wanted else []
    candidates += [p for p in PORTS if p != wanted]
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is free
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"No free port in {PORTS.start}-{PORTS.stop - 1}")


# --- the deployment ------------------------------------------------------------------------------


class Deployment:
    """A fresh embedded default as `make run` builds it, in ``workdir``; ``stop()`` ends it all."""

    def __init__(self, *, workdir: Path, port: int, reuse_model_cache: bool, snapshot: bool):
        self.workdir = workdir
        self.src = snapshot_tree(workdir / "src") if snapshot else ROOT
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = workdir / "honcho.log"
        self.honcho: subprocess.Popen | None = None
        self.groups: set[int] = set()
        self.timings: dict[str, float] = {}
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST", "DJANGO_", "CELERY_"))
            and k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "MODEL_CACHE_DIR", "MEDIA_ROOT")
        }
        env.update(
            {
                "SQLITE_PATH": str(workdir / "db.sqlite3"),
                "CELERY_BROKER_SQLITE": str(workdir / "celery-broker.sqlite3"),
                "MEDIA_ROOT": str(workdir / "media"),
                "PYTHONUNBUFFERED": "1",
                # What settings.py finds beside the checkout, named so that a snapshot finds it too.
                "SHARED_DATA_DIR": os.environ.get("SHARED_DATA_DIR", str(ROOT.parent / "shared" / "data")),
                "MODEL_CACHE_DIR": str(ROOT / "var" / "models" if reuse_model_cache else workdir / "models"),
            }
        )
        self.env = env

    def _manage(self, label: str, *argv: str, extra_env: dict[str, str] | None = None) -> float:
        log = self.workdir / f"{label.split()[0]}.log"
        started = time.perf_counter()
        with log.open("w") as out:
            result = subprocess.run(
                [PYTHON, "manage.py", *argv],
                cwd=self.src,
                env={**self.env, **(extra_env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=3600,
            )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"`manage.py {' '.join(argv)}` exited with {result.returncode}:\n{tail}")
        self.timings[label] = seconds
        _say(f"  {label}: {seconds:.1f} s")
        return seconds

    def build(self, *, panellists: int, rounds: int, seed: int) -> None:
        self._manage("migrate", "migrate", "--noinput")
        self._manage("load_demo", "load_demo")
        if panellists > 0:
            self._manage(
                "simulate_delphi (bench only)",
                "simulate_delphi", DEMO_CYCLE, "--panellists", str(panellists), "--rounds", str(rounds),
                "--seed", str(seed),
                extra_env={"CELERY_TASK_ALWAYS_EAGER": "true"},
            )  # fmt: skip

    def start(self, *, timeout: float = 300) -> None:
        """Procfile.run under honcho, as `make run` starts it; returns once the web server answers."""
        procfile = self.workdir / "Procfile.run"
        text = (ROOT / "Procfile.run").read_text()
        schedule = str(self.workdir / "celerybeat-schedule")
        procfile.write_text(text.replace("var/celerybeat-schedule", schedule))
        env = {**self.env, "DEBUG_PAGES": "false", "HOST": "127.0.0.1", "PORT": str(self.port)}
        started = time.perf_counter()
        with self.log_path.open("w") as out:
            self.honcho = subprocess.Popen(
                [HONCHO, "-f", str(procfile), "-d", str(self.src), "start"],
                cwd=self.src,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends all of it
            )
        self.groups.add(self.honcho.pid)
        deadline = started + timeout
        while True:
            self._record_groups()
            if self.honcho.poll() is not None:
                raise SystemExit(f"honcho exited with {self.honcho.returncode}:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/accounts/login/", timeout=5).status_code == 200:
                    break
            if time.perf_counter() > deadline:
                raise SystemExit(f"The web server did not answer within {timeout:.0f} s:\n{self.log_text()[-3000:]}")
            time.sleep(0.2)
        self.timings["web server answering"] = time.perf_counter() - started
        self.started_at = started
        _say(f"  web server answering: {self.timings['web server answering']:.1f} s after honcho started")

    def worker_ready_after(self) -> float | None:
        """Seconds from honcho's first log line to the worker's "celery@… ready." (honcho's clock)."""
        text = self.log_text()
        first = re.search(r"^(\d\d):(\d\d):(\d\d) ", text, re.M)
        ready = re.search(r"^(\d\d):(\d\d):(\d\d) worker\.1\s*\|.*\bready\.", text, re.M)
        if not (first and ready):
            return None
        seconds = [int(a) * 3600 + int(b) * 60 + int(c) for a, b, c in (first.groups(), ready.groups())]
        return (seconds[1] - seconds[0]) % 86400

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _record_groups(self) -> None:
        """The process groups of honcho's children (honcho starts each in a session of its own)."""
        if self.honcho is None:
            return
        for pid in _descendants(self.honcho.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self.groups.add(os.getpgid(pid))

    def stop(self) -> None:
        if self.honcho is None:
            return
        self._record_groups()
        if self.honcho.poll() is None:
            # What Ctrl-C does under `make run`: honcho sends SIGTERM to every process group it
            # started and waits for them.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.honcho.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.honcho.wait(timeout=30)
        for group in sorted(self.groups):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.honcho.wait(timeout=10)


SNAPSHOT_SKIP = (".venv", ".git", "var", "media", "staticfiles", "db.sqlite3*", "__pycache__", ".*_cache")


def snapshot_tree(target: Path) -> Path:
    """A copy of the checkout's source (the virtual environment linked, not copied): other people's
    edits during the run neither reload the server nor change the code half-way through set-up."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*SNAPSHOT_SKIP), symlinks=True)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# --- clients and what the pages say ----------------------------------------------------------------


LOGIN_MS: dict[str, float] = {}


def log_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    token = _csrf(page.text)
    started = time.perf_counter()
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": ""},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    LOGIN_MS[email] = (time.perf_counter() - started) * 1000
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"Logging in as {email} failed: {response.status_code}")
    return session


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SystemExit("No CSRF token in the page")
    return match.group(1)


def _h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    text = re.sub(r"<[^>]+>", "", match.group(1)) if match else ""
    return re.sub(r"\s+", " ", text).strip()[:60]


def say_generic(response: requests.Response) -> str:
    heading = _h1(response.text)
    return f"“{heading}”" if heading else ""


def say_suggestions(response: requests.Response) -> str:
    html = response.text
    preparing = re.search(r"Preparing suggestions(?: — (\d+) %)?</strong>: ([^.(<]*)", html)
    items = len(re.findall(r'aria-label="Add ', html))
    if preparing:
        percent = f" — {preparing.group(1)} %" if preparing.group(1) else ""
        ready = f" + {items} ready" if items else ""
        return f"Preparing suggestions{percent} ({preparing.group(2).strip()}){ready}"
    if "Finding suggestions" in html:
        return "Finding suggestions… (spinner)"
    if "Suggestions are not available" in html:
        return "not available"
    if "No suggestions." in html:
        return "No suggestions."
    return f"{items} suggestions"


def say_library(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return "not JSON"
    parts = [f"{len(data.get('results') or [])} hits in {data.get('took_ms', 0):.0f} ms"]
    if data.get("preparing"):
        parts.append(f"getting ready: {data['preparing']}")
    if data.get("not_embedded"):
        parts.append("not searched: " + ", ".join(data["not_embedded"]))
    return "; ".join(parts)


def say_health(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return "not JSON"
    failing = [name for name, check in (data.get("checks") or {}).items() if not check.get("ok")]
    return f"{data.get('status')}" + (f" (failing: {', '.join(failing)})" if failing else "")


def framework_states(html: str) -> dict[tuple[str, str], str]:
    """Reference frameworks page: (kind, version) -> embedding state ("embedded", "42 %", "not yet")."""
    states = {}
    sections = re.split(r'<section[^>]*aria-labelledby="fw-', html)[1:]
    rows = [
        (section.split('"', 1)[0], row) for section in sections for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)
    ]
    for kind, row in rows:
        label = re.search(r'<th scope="row">([^<]+)', row)
        if not label:
            continue
        if "bi-check-circle" in row:
            state = "embedded"
        elif match := re.search(r"(\d+) % —", row):
            state = f"{match.group(1)} %"
        elif "not yet" in row:
            state = "not yet"
        else:
            state = "?"
        states.setdefault((kind, label.group(1).strip()), state)  # the first row is the latest version
    return states


def warmed_up(states: dict[tuple[str, str], str]) -> bool:
    """The worker's warm-up embeds the latest version of every framework the page lists."""
    return bool(states) and all(state == "embedded" for state in states.values())


def say_frameworks(response: requests.Response) -> str:
    return ", ".join(f"{label}: {state}" for (_, label), state in framework_states(response.text).items())


def proposal_state(html: str) -> str:
    if "Latest run done" in html:
        return "done"
    if "The latest run failed" in html:
        return "failed"
    if "Proposing FOPs…" in html:
        return "running"
    if "Queued…" in html:
        return "queued"
    return "none"


def say_proposal(response: requests.Response) -> str:
    html = response.text
    state = proposal_state(html)
    if state == "running":
        note = re.search(r"running for ([^<·(]*?)(?: · ([^<(]*?))?\s*\(profile", html, re.S)
        percent = re.search(r'aria-valuenow="(\d+)"', html)
        bits = [f"{percent.group(1)} %" if percent else ""]
        if note and note.group(2):
            bits.append(note.group(2).strip())
        return "Proposing FOPs… " + " · ".join(b for b in bits if b)
    if state == "failed":
        error = re.search(r"The latest run failed</strong> \([^)]*\): ([^<]*)", html)
        return f"failed: {error.group(1).strip() if error else '?'}"
    if state == "done":
        summary = re.search(r"Latest run done</strong>.*?(\d+ FOPs proposed[^(<]*)", html, re.S)
        return f"done: {summary.group(1).strip() if summary else ''}"
    return {"queued": "Queued…", "none": "no run yet"}[state]


@dataclass
class Page:
    label: str
    session: requests.Session
    path: str
    htmx: bool = False
    expect: tuple[int, ...] = (200,)
    say: Callable[[requests.Response], str] = say_generic
    times: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    said: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # what it said, first time each

    def get(self, base: str) -> requests.Response | None:
        headers = {"HX-Request": "true", "HX-Current-URL": f"{base}{self.path}"} if self.htmx else {}
        started = time.perf_counter()
        try:
            response = self.session.get(f"{base}{self.path}", headers=headers, timeout=120, allow_redirects=False)
            _ = response.content  # the whole body, inside the timing
        except requests.RequestException as exc:
            self.times.append((time.perf_counter() - started) * 1000)
            self.statuses[type(exc).__name__] += 1
            self.unexpected.append(f"{type(exc).__name__} at {time.strftime('%H:%M:%S')}")
            return None
        self.times.append((time.perf_counter() - started) * 1000)
        self.statuses[response.status_code] += 1
        if response.status_code not in self.expect:
            self.unexpected.append(f"{response.status_code} at {time.strftime('%H:%M:%S')}")
        else:
            said = self.say(response)
            if said:
                if said not in self.said:
                    self.order.append(said)
                self.said[said] += 1
        return response


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def summarise_said(said: Counter, limit: int = 4, order: list[str] | None = None) -> str:
    """The distinct things a page said, commonest first (one percentage folded into a range; with
    several per answer, the first and the last answer)."""
    if order and len(order) > 1 and max(len(re.findall(r"\d+ %", t)) for t in order) > 1:
        return f"{order[0]} → {order[-1]} ({sum(said.values())}×)".replace("|", "/")
    folded: dict[str, list] = {}
    for text, n in said.items():
        key = re.sub(r"\d+ %", "# %", text)
        key = re.sub(r"\d+ hits in \d+ ms", "# hits in # ms", key)
        entry = folded.setdefault(key, [0, []])
        entry[0] += n
        entry[1] += [int(x) for x in re.findall(r"(\d+) %", text)]
        entry[1] += [int(x) for x in re.findall(r"(\d+) hits", text)]
    parts = []
    for key, (n, numbers) in sorted(folded.items(), key=lambda kv: -kv[1][0])[:limit]:
        text = key
        if "#" in key and numbers:
            low, high = min(numbers), max(numbers)
            value = str(low) if low == high else f"{low}–{high}"
            text = key.replace("# %", f"{value} %", 1).replace("# hits", f"{value} hits", 1)
            text = text.replace("# %", "… %").replace(" in # ms", "")
        parts.append(f"{text.strip()} ({n}×)" if len(said) > 1 or n > 1 else text.strip())
    if len(folded) > limit:
        parts.append(f"… {len(folded) - limit} more")
    return "; ".join(parts).replace("|", "/")


def table(pages: list[Page]) -> str:
    lines = [
        "| page | requests | first ms | p50 ms | p95 ms | max ms | status codes | what the page said |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in pages:
        if not p.times:
            continue
        p95 = percentile(p.times, 0.95)
        flag = " ⚠" if p95 > TARGET_P95_MS else ""
        codes = ", ".join(f"{code} ×{n}" for code, n in sorted(p.statuses.items(), key=lambda kv: str(kv[0])))
        lines.append(
            f"| {p.label} | {len(p.times)} | {p.times[0]:.0f} | {statistics.median(p.times):.0f} | {p95:.0f}{flag} "
            f"| {max(p.times):.0f} | {codes} | {summarise_said(p.said, order=p.order)} |"
        )
    return "\n".join(lines)


# --- the measurement ---------------------------------------------------------------------------------


def discover(base: str, convener: requests.Session, educator: requests.Session) -> dict:
    slug = DEMO_CYCLE
    found = {}
    board = educator.get(f"{base}/cycles/{slug}/tags/", timeout=120).text
    ids = re.findall(rf"/cycles/{slug}/tags/capabilities/(\d+)/", board)
    if not ids:
        raise SystemExit("No capability on the tag board")
    found["capability"] = int(ids[0])
    runs = convener.get(f"{base}/cycles/{slug}/matching/", timeout=120).text
    run_ids = re.findall(rf"/cycles/{slug}/matching/runs/(\d+)/", runs)
    found["run"] = max(int(x) for x in run_ids) if run_ids else None
    delphi = convener.get(f"{base}/cycles/{slug}/delphi/", timeout=120).text
    rounds = re.findall(rf"/cycles/{slug}/delphi/rounds/(\d+)/", delphi)
    found["round"] = max(int(x) for x in rounds) if rounds else None
    return found


def page_list(convener: requests.Session, educator: requests.Session, found: dict) -> list[Page]:
    s = f"/cycles/{DEMO_CYCLE}"
    cap = found["capability"]
    pages = [
        Page("home dashboard /", convener, "/"),
        Page("cycle dashboard", convener, f"{s}/"),
        Page("capture", convener, f"{s}/capture/"),
        Page("library search (q=…)", convener, f"{s}/library/search/?q={requests.utils.quote(LIBRARY_QUERY)}", say=say_library),
        Page("Delphi home", convener, f"{s}/delphi/"),
    ]  # fmt: skip
    if found["round"]:
        pages.append(Page(f"Delphi round {found['round']}", convener, f"{s}/delphi/rounds/{found['round']}/"))
    pages += [
        Page("FOP proposal page", convener, f"{s}/fops/propose/", say=say_proposal),
        Page("FOP list", convener, f"{s}/fops/"),
        Page("KSB tag board (educator)", educator, f"{s}/tags/"),
        Page(f"tag editor, capability {cap} (educator)", educator, f"{s}/tags/capabilities/{cap}/?kind=S"),
    ]
    for kind in ("K", "S", "B"):
        pages.append(
            Page(
                f"suggestions fragment kind={kind} (htmx)",
                educator,
                f"{s}/tags/capabilities/{cap}/?kind={kind}&part=suggestions",
                htmx=True,
                say=say_suggestions,
            )
        )
    pages += [
        Page("reference frameworks (embedding status)", convener, "/matching/frameworks/", say=say_frameworks),
        Page("findings index", convener, f"{s}/findings/"),
        Page("findings: overview", convener, f"{s}/findings/overview/"),
        Page("findings: fop_priorities", convener, f"{s}/findings/fop_priorities/"),
        Page("findings: without_provision", convener, f"{s}/findings/without_provision/"),
        Page("match runs", convener, f"{s}/matching/"),
        Page("/healthz (200 or 503)", convener, "/healthz", expect=(200, 503), say=say_health),
    ]
    if found["run"]:
        pages.append(Page(f"match run {found['run']}", convener, f"{s}/matching/runs/{found['run']}/"))
    return pages


def round_robin(base: str, pages: list[Page], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for page in pages:
            page.get(base)
    return time.perf_counter() - started


@dataclass
class Proposal:
    post_ms: float = 0.0
    post_status: int | str = 0
    post_location: str = ""
    posted: float = 0.0
    job_seconds: float | None = None
    queued_seconds: float | None = None
    outcome: str = ""
    states: list[str] = field(default_factory=list)


def propose(base: str, convener: requests.Session) -> Proposal:
    """POST "Propose FOPs" with the form's own values, as the convener's browser does."""
    url = f"{base}/cycles/{DEMO_CYCLE}/fops/propose/"
    form = convener.get(url, timeout=120).text
    data = {"csrfmiddlewaretoken": _csrf(form)}
    for name in ("max_size", "min_size", "similarity"):
        match = re.search(rf'name="{name}" value="([^"]*)"', form)
        data[name] = match.group(1) if match else ""
    result = Proposal()
    started = time.perf_counter()
    try:
        response = convener.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=300)
        result.post_status = response.status_code
        result.post_location = response.headers.get("Location", "")
    except requests.RequestException as exc:
        result.post_status = type(exc).__name__
    result.post_ms = (time.perf_counter() - started) * 1000
    result.posted = time.perf_counter()
    if result.post_status != 302:
        result.outcome = f"POST answered {result.post_status}"
    return result


@dataclass
class WarmUp:
    states: dict = field(default_factory=dict)
    done_after: float | None = None  # seconds after the web server started
    seen: list[str] = field(default_factory=list)


def follow(
    base: str, proposal: Proposal, poll: list[Page], frameworks: Page, *, job_timeout: float, warm_timeout: float,
    server_started: float, also: tuple[Page, ...] | list[Page] = (),
) -> WarmUp:  # fmt: skip
    """After the POST: the proposal page and its polling fragment every second until the run ends,
    and the frameworks page every 5 s until every framework is embedded (each up to its timeout)."""
    warm = WarmUp()
    last_frameworks = 0.0
    job_open = proposal.post_status == 302
    while True:
        elapsed = time.perf_counter() - proposal.posted
        job_open = job_open and proposal.job_seconds is None and elapsed < job_timeout
        warm_open = warm_timeout > 0 and warm.done_after is None and elapsed < warm_timeout
        if not (job_open or warm_open):
            break
        if job_open:
            for page in poll:
                response = page.get(base)
                if response is None:
                    continue
                said = say_proposal(response)
                state = proposal_state(response.text)
                if not proposal.states or proposal.states[-1] != said:
                    proposal.states.append(said)
                if proposal.queued_seconds is None and state not in ("queued", "none"):
                    proposal.queued_seconds = time.perf_counter() - proposal.posted
                if state in ("done", "failed"):
                    proposal.job_seconds = time.perf_counter() - proposal.posted
                    proposal.outcome = said
                    break
        if warm_open and time.perf_counter() - last_frameworks >= 5:
            last_frameworks = time.perf_counter()
            for extra in also:
                extra.get(base)
            response = frameworks.get(base)
            if response is not None and response.status_code == 200:
                warm.states = framework_states(response.text)
                said = say_frameworks(response)
                if not warm.seen or warm.seen[-1] != said:
                    warm.seen.append(said)
                if warmed_up(warm.states):
                    warm.done_after = time.perf_counter() - server_started
        time.sleep(1.0)
    if proposal.job_seconds is None and proposal.post_status == 302:
        waited = time.perf_counter() - proposal.posted
        proposal.outcome = f"still {proposal.states[-1] if proposal.states else '?'} after {waited:.0f} s"
    return warm


def server_log_findings(text: str) -> list[str]:
    notes = []
    tracebacks = text.count("Traceback (most recent call last)")
    notes.append(f"tracebacks in the web/worker log: {tracebacks}")
    reloads = len(re.findall(r"changed, reloading", text))
    if reloads:
        files = sorted(set(re.findall(r"web\.1\s*\| (\S+) changed, reloading", text)))
        notes.append(f"runserver reloaded {reloads}× (files changed during the run: {', '.join(files) or '?'})")
    killed = text.count("took too long to shut down and was killed")
    if killed:
        notes.append(f"requests killed for taking too long: {killed}")
    warmups = len(re.findall(r"Task matching\.tasks\.warm_up\[[^\]]+\] received", text))
    notes.append(f"warm-up tasks received by the worker: {warmups}")
    errors = sorted(set(re.findall(r"(\w+(?:Error|Exception): [^\n]{0,160})", text)))
    for error in errors[:8]:
        notes.append(f"error line: {error}")
    return notes


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="GETs of each page, round-robin (default 20)")
    parser.add_argument("--port", type=int, default=8840, help="web server port, 8840-8849 (default 8840)")
    parser.add_argument("--panellists", type=int, default=24, help="simulated Delphi panellists (0: no Delphi)")
    parser.add_argument("--rounds", type=int, default=3, help="simulated Delphi rounds (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--job-timeout", type=float, default=1200, help="seconds after the POST to wait for the FOP run"
    )
    parser.add_argument(
        "--warm-up-timeout", type=float, default=1200, help="seconds after the POST to wait for the warm-up (0: skip)"
    )
    parser.add_argument("--reuse-model-cache", action="store_true", help="read the ONNX export in var/models")
    parser.add_argument(
        "--live-tree",
        action="store_true",
        help="run in the checkout itself (runserver reloads when someone edits a file) instead of a snapshot",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and model cache (logs are kept)")
    args = parser.parse_args()
    if args.port not in PORTS:
        parser.error(f"--port must be in {PORTS.start}-{PORTS.stop - 1}")

    WORK_BASE.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="fresh-", dir=WORK_BASE))
    port = _free_port(args.port)
    load_start = _loadavg()
    _say(f"# Fresh start ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    _say(f"folder {workdir}, port {port}, load average at start {load_start} (1/5/15 min, {os.cpu_count()} cores)")
    deployment = Deployment(
        workdir=workdir, port=port, reuse_model_cache=args.reuse_model_cache, snapshot=not args.live_tree
    )
    _say(f"source: {'the checkout itself' if args.live_tree else f'a snapshot of {ROOT} in {deployment.src}'}")
    try:
        _say("\n## Set-up (as `make run`)")
        setup_started = time.perf_counter()
        deployment.build(panellists=args.panellists, rounds=args.rounds, seed=args.seed)
        deployment.start()
        setup_total = time.perf_counter() - setup_started
        sim = deployment.timings.get("simulate_delphi (bench only)", 0.0)
        _say(
            f"  set-up total {setup_total:.1f} s; as `make run` (without the bench's Delphi simulation): "
            f"{setup_total - sim:.1f} s"
        )

        convener = log_in(deployment.base, CONVENER)
        educator = log_in(deployment.base, EDUCATOR)
        found = discover(deployment.base, convener, educator)
        pages = page_list(convener, educator, found)
        since = time.perf_counter() - deployment.started_at
        _say(f"\n## Pages right after start ({args.requests} × {len(pages)} GETs, round-robin, from {since:.1f} s)")
        _say(f"  load average {_loadavg()}")
        rr_seconds = round_robin(deployment.base, pages, args.requests)
        _say(f"  {rr_seconds:.1f} s; warm-up then: {say_frameworks_now(deployment.base, convener)}")
        _say(f"  load average {_loadavg()}")

        _say("\n## Propose FOPs (POST as the convener), then its page until the run ends and the warm-up")
        poll = [
            Page("FOP proposal page (run active)", convener, f"/cycles/{DEMO_CYCLE}/fops/propose/", say=say_proposal),
            Page(
                "FOP run status fragment (htmx poll)",
                convener,
                f"/cycles/{DEMO_CYCLE}/fops/propose/",
                htmx=True,
                expect=(200, 286),
                say=say_proposal,
            ),
        ]
        health_poll = Page("/healthz (polled until warm)", convener, "/healthz", expect=(200, 503), say=say_health)
        frameworks_poll = Page(
            "reference frameworks (polled until warm)", convener, "/matching/frameworks/", say=say_frameworks
        )
        proposal = propose(deployment.base, convener)
        _say(f"  POST {proposal.post_status} → {proposal.post_location or '-'} in {proposal.post_ms:.0f} ms")
        warm = follow(
            deployment.base, proposal, poll, frameworks_poll, job_timeout=args.job_timeout,
            warm_timeout=args.warm_up_timeout, server_started=deployment.started_at, also=[health_poll],
        )  # fmt: skip
        job = f"{proposal.job_seconds:.1f} s" if proposal.job_seconds is not None else "did not end"
        _say(f"  run ended after {job}: {proposal.outcome}")
        _say(f"  the page said, in order: {' → '.join(proposal.states) or '-'}")
        if args.warm_up_timeout > 0:
            if warm.done_after is None:
                _say(f"  warm-up not finished {args.warm_up_timeout:.0f} s after the POST: {' → '.join(warm.seen)}")
            else:
                _say(f"  warm-up: every framework embedded {warm.done_after:.0f} s after the server started")
        _say(f"  load average {_loadavg()}")

        after: list[Page] = []
        if warm.done_after is not None:
            cap = found["capability"]
            after = [
                Page(
                    f"suggestions kind={kind} after warm-up (htmx)",
                    educator,
                    f"/cycles/{DEMO_CYCLE}/tags/capabilities/{cap}/?kind={kind}&part=suggestions",
                    htmx=True,
                    say=say_suggestions,
                )
                for kind in ("K", "S", "B")
            ]
            after.append(
                Page(
                    "library search after warm-up",
                    convener,
                    f"/cycles/{DEMO_CYCLE}/library/search/?q={requests.utils.quote(LIBRARY_QUERY)}",
                    say=say_library,
                )
            )
            round_robin(deployment.base, after, max(3, args.requests // 4))

        load_end = _loadavg()
        every = pages + poll + [frameworks_poll, health_poll] + after
        _say("\n## Results")
        _say("")
        _say(table(every))
        _say("")
        get_p95 = max(percentile(p.times, 0.95) for p in every if p.times)
        worst = max((p for p in every if p.times), key=lambda p: percentile(p.times, 0.95))
        over = [p.label for p in every if p.times and percentile(p.times, 0.95) > TARGET_P95_MS]
        unexpected = [(p.label, u) for p in every for u in p.unexpected]
        _say(f"- set-up: {', '.join(f'{k} {v:.1f} s' for k, v in deployment.timings.items())}")
        ready = deployment.worker_ready_after()
        _say(f"- worker ready {ready:.0f} s after honcho started" if ready is not None else "- worker: no ready line")
        _say("- login POSTs (302): " + ", ".join(f"{k} {v:.0f} ms" for k, v in LOGIN_MS.items()))
        queued = f"{proposal.queued_seconds:.1f} s" if proposal.queued_seconds is not None else "the whole wait"
        _say(
            f"- Propose FOPs POST: {proposal.post_status} in {proposal.post_ms:.0f} ms; queued for {queued}; run took {job}"
        )
        _say(f"- load average at start {load_start}, at end {load_end}")
        if unexpected:
            _say(f"- unexpected answers ({len(unexpected)}): " + "; ".join(f"{lbl}: {u}" for lbl, u in unexpected[:20]))
        else:
            _say(
                "- every response was the expected status (200; 302 for the login and the POST; 286 for the last "
                "poll; /healthz 200 or 503, its answer is in the table)"
            )
        for note in server_log_findings(deployment.log_text()):
            _say(f"- {note}")
        post_ok = proposal.post_status == 302 and proposal.post_ms < TARGET_P95_MS
        met = not over and post_ok and not unexpected
        _say(
            f"\n**Verdict: target {'met' if met else 'NOT met'}** — worst GET p95 {get_p95:.0f} ms ({worst.label}); "
            f"{len(over)} of {len([p for p in every if p.times])} pages above 1 s p95"
            f"{' (' + ', '.join(over) + ')' if over else ''}; POST {proposal.post_ms:.0f} ms "
            f"({'under' if proposal.post_ms < TARGET_P95_MS else 'over'} 1 s); "
            f"{len(unexpected)} unexpected statuses; the proposal run waited {queued} queued and ended after {job}."
        )
    finally:
        deployment.stop()
        if not args.keep:
            for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "models", "media", "src"):
                target = workdir / name
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        target.unlink()
        _say(f"\n(logs in {workdir}; every process stopped)")


def say_frameworks_now(base: str, session: requests.Session) -> str:
    try:
        return say_frameworks(session.get(f"{base}/matching/frameworks/", timeout=120)) or "?"
    except requests.RequestException as exc:
        return type(exc).__name__


if __name__ == "__main__":
    main()

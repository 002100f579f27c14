"""The Dockerfile and compose.yaml run what `make services` runs (they cannot be built here: no
container runtime), so these check that they stay the same steps rather than a second copy."""

from __future__ import annotations

import json
import re

import yaml

from tests.faults.services import REPO


def _make_target(name: str) -> str:
    text = (REPO / "Makefile").read_text()
    match = re.search(rf"^{re.escape(name)}:.*?\n((?:\t.*\n|.*\\\n)+)", text, re.M)
    assert match, f"no recipe for {name}"
    return match.group(1)


def test_make_services_is_the_install_then_the_target_the_image_runs():
    assert "$(MAKE) --no-print-directory serve-services" in _make_target("services")
    recipe = _make_target("serve-services")
    steps = [line.strip() for line in recipe.splitlines()]
    assert any("manage.py migrate --noinput" in s for s in steps)
    assert any("manage.py collectstatic --noinput" in s for s in steps)
    assert any("honcho -f Procfile.services start" in s for s in steps)


def test_the_image_runs_serve_services_from_the_makefiles_virtual_environment():
    dockerfile = (REPO / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert cmd[0] == "make" and "serve-services" in cmd and "HOST=0.0.0.0" in cmd
    assert "python -m venv .venv" in dockerfile and "-r requirements.txt" in dockerfile


def test_the_procfile_runs_two_asgi_servers_a_worker_and_beat():
    lines = [ln for ln in (REPO / "Procfile.services").read_text().splitlines() if ln and not ln.startswith("#")]
    processes = dict(line.split(": ", 1) for line in lines)
    assert set(processes) == {"web1", "web2", "worker", "beat"}
    assert all("uvicorn config.asgi:application" in processes[w] for w in ("web1", "web2"))
    # Per-message compression off: compressing every broadcast frame cost more CPU than it saved.
    assert all("--ws-per-message-deflate false" in processes[w] for w in ("web1", "web2"))
    assert "worker -Q default,matching" in processes["worker"] and " beat " in processes["beat"]


def test_compose_runs_the_image_with_postgresql_and_redis_on_both_ports():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "app"}
    app = services["app"]
    assert app["build"] == "." and "command" not in app  # the image's CMD: make serve-services
    assert (
        app["environment"]["DATABASE_URL"].startswith("postgres://")
        and "@postgres:" in app["environment"]["DATABASE_URL"]
    )
    assert app["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert app["ports"] == ["8000:8000", "8001:8001"]
    assert app["init"] is True  # a stop's SIGTERM reaches make, and through honcho every process

"""The product's own 403, 404 and 500 pages, one log line per refusal, and `make run` without
Django's technical pages.

Issue 13, stumble 11: a refused request was logged as a traceback and showed Django's bare
"403 Forbidden"; a non-member opening another cycle saw Django's technical 404 page listing the
URL patterns.
"""

import logging
import os
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path, reverse

from core.errors import CSRF_FAILED, FORBIDDEN, NOT_FOUND, server_error

ROOT = Path(__file__).resolve().parents[2]


def boom(request):
    raise RuntimeError("the database fell over")


# This module doubles as a URLconf for the server-error test (pytest.mark.urls below).
urlpatterns = [path("boom/", boom)]
handler500 = "core.errors.server_error"


def page(response) -> str:
    return unescape(response.content.decode())


def assert_product_page(html: str) -> None:
    assert 'aria-label="Main"' in html and "Foresight" in html  # the navigation of _base.html
    assert 'id="error-ways-back"' in html
    for technical in ("URLconf", "Traceback", "DEBUG = True", "Django tried these URL patterns"):
        assert technical not in html


def test_a_non_member_opening_another_cycle_gets_the_products_404(personas):
    response = personas.client_for(personas.outsider).get(reverse("cycles:cycle_detail", args=["cycle-a"]))
    assert response.status_code == 404
    html = page(response)
    assert_product_page(html)
    assert "Page not found" in html and NOT_FOUND in html
    assert reverse("cycles:dashboard") in html and "Your cycles" in html
    assert "Cycle A" not in html  # nothing of the cycle leaks


def test_an_unknown_address_gets_the_products_404_with_a_way_to_log_in(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    html = page(response)
    assert_product_page(html)
    assert "/no-such-page/" in html and reverse("accounts:login") in html


def test_a_refusal_shows_its_reason_and_logs_one_line(personas, caplog):
    url = reverse("cycles:audit", args=["cycle-a"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = personas.client_for(personas.technologist).get(url, headers={"Referer": "http://testserver/"})
    assert response.status_code == 403
    html = page(response)
    assert_product_page(html)
    assert "You cannot do this here" in html
    reason = html.split('id="error-reason">', 1)[1].split("</p>", 1)[0]
    assert reason and reason != "403 Forbidden"
    assert 'href="http://testserver/"' in html  # back to the page the person came from
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.exc_info is None and record.levelname == "WARNING"
    assert record.getMessage().startswith(f"Forbidden (Permission denied): {url} (")
    assert "\n" not in caplog.text.strip() and "Traceback" not in caplog.text


def test_a_refusal_without_a_message_says_what_it_means(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from core.errors import permission_denied

    request = rf.get("/")
    request.user = AnonymousUser()
    assert FORBIDDEN in page(permission_denied(request, PermissionDenied()))


def test_the_500_page_needs_no_database_and_no_request():
    # No db fixture: any query here fails the test.
    response = server_error(None)
    assert response.status_code == 500
    html = page(response)
    assert_product_page(html)
    assert "Something went wrong" in html and "Log in" in html


@pytest.mark.urls("tests.core.test_error_pages")
def test_a_crash_gets_the_500_page_and_keeps_its_traceback_in_the_log(db, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in page(response)
    assert "the database fell over" not in page(response)
    errors = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert errors and errors[0].exc_info is not None


def test_a_stale_form_gets_the_products_403_saying_to_reload(db):
    response = Client(enforce_csrf_checks=True).post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = page(response)
    assert_product_page(html)
    assert CSRF_FAILED in html


def _unknown_page_in_a_fresh_process(**env: str) -> tuple[str, str]:
    """Settings read from ``env`` as `make run` would; an unknown address asked for (no database)."""
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.test import Client\n"
        "r = Client().get('/no-such-page/')\n"
        "print(settings.DEBUG, r.status_code); print(r.content.decode())\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DEBUG_PAGES", "SECRET_KEY", "ALLOWED_HOSTS"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    first, _, rest = result.stdout.partition("\n")
    return first, rest


def test_make_run_serves_the_products_pages_not_the_technical_ones():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun: demo\n", 1)[1].split("\n\n", 1)[0]
    assert "run: DEBUG_PAGES ?= false" in makefile and "DEBUG_PAGES=$(DEBUG_PAGES)" in run
    # make run starts Procfile.run's web server (and its worker); static files still served with DEBUG off.
    assert "Procfile.run" in run
    web = next(line for line in (ROOT / "Procfile.run").read_text().splitlines() if line.startswith("web:"))
    assert "runserver --insecure" in web

    first, html = _unknown_page_in_a_fresh_process(DEBUG_PAGES="false")
    assert first == "False 404"
    assert "Page not found" in html and "URLconf" not in html
    # Development mode stays: no SECRET_KEY needed, local hosts allowed (the request above ran).

    first, html = _unknown_page_in_a_fresh_process()  # a developer's plain runserver: unchanged
    assert first == "True 404"
    assert "URLconf" in html

"""Static files: compressed copies under cache-busted names in services mode, served by WhiteNoise
from the ASGI processes; the plain storage for `make run` and the test suite, which never collect."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.faults.services import REPO

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.storage.StaticStorage"},
}


def _storage_with(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "STATIC_MANIFEST", "DEBUG_PAGES"}}
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_the_suite_renders_pages_with_the_plain_storage(settings):
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_manifest_is_on_with_debug_off_or_when_asked_and_off_for_development():
    assert _storage_with() == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert _storage_with(DEBUG_PAGES="false") == "django.contrib.staticfiles.storage.StaticFilesStorage"  # make run
    assert _storage_with(STATIC_MANIFEST="true") == "core.storage.StaticStorage"  # make services
    assert _storage_with(DEBUG="false", SECRET_KEY="x" * 50) == "core.storage.StaticStorage"
    assert _storage_with(DEBUG="false", SECRET_KEY="x" * 50, STATIC_MANIFEST="false").endswith("StaticFilesStorage")


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STORAGES=MANIFEST, STATIC_ROOT=root, STATIC_MANIFEST=True):
        # The admin's files are Django's own; leaving them out keeps this to a few seconds.
        call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=["admin"])
    return root


@pytest.mark.django_db
def test_collected_files_are_served_compressed_under_hashed_names_from_the_asgi_process(collected):
    with override_settings(STORAGES=MANIFEST, STATIC_ROOT=collected, STATIC_MANIFEST=True, DEBUG=False):
        client = Client()  # a new handler: WhiteNoise reads STATIC_ROOT when its middleware starts
        page = client.get("/accounts/login/").content.decode()
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        assert "/static/vendor/bootstrap/css/bootstrap.min.css" not in assets
        assert any(re.fullmatch(r"/static/vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css", a) for a in assets)
        for asset in assets:
            response = client.get(asset, headers={"Accept-Encoding": "br, gzip"})
            assert response.status_code == 200, asset
            assert response["Cache-Control"] == "max-age=315360000, public, immutable", asset
            if asset.endswith((".css", ".js")):
                assert response["Content-Encoding"] in {"br", "gzip"}, asset
            response.close()


def test_a_stylesheets_reference_to_a_file_that_is_not_vendored_is_left_as_written(collected):
    icons = next((collected / "vendor" / "bootstrap-icons").glob("bootstrap-icons.min.*.css"))
    css = icons.read_text()
    assert re.search(r'url\("fonts/bootstrap-icons\.[0-9a-f]{12}\.woff2\?', css)  # vendored: renamed
    assert 'url("fonts/bootstrap-icons.woff?' in css  # the fallback no browser fetches: as it was

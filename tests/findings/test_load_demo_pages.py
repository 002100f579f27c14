"""The real ``load_demo`` (every app's demo step, frameworks skipped) gives pages that all render."""

import pytest
from django.core.management import call_command
from django.test import Client

from findings.models import ActionItem
from findings.tables import PAGES
from tests.findings.builders import CGT, DATA_DIR, POC
from tests.findings.conftest import rolled_back


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        call_command("load_demo", "--data-dir", str(DATA_DIR), "--skip-frameworks", verbosity=0)
        call_command("load_demo", "--data-dir", str(DATA_DIR), "--skip-frameworks", verbosity=0)  # idempotent
        yield


def test_every_findings_page_of_the_loaded_demo_renders(loaded, db):
    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="convener@demo.test"))
    for slug in (POC, CGT):
        for path in [f"/cycles/{slug}/findings/{p.key}/" for p in PAGES] + [
            f"/cycles/{slug}/report/",
            f"/cycles/{slug}/actions/",
        ]:
            assert client.get(path).status_code == 200, path
    assert ActionItem.objects.filter(cycle__slug=CGT).count() == 10
    assert ActionItem.objects.filter(cycle__slug=POC).count() == 6

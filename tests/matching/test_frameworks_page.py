"""The reference frameworks page shows how far the worker's embedding of a version is."""

import re

import pytest
from django.urls import reverse

from matching import embeddings
from matching.importers import import_framework
from matching.models import Statement
from tests.matching.frameworks import write_esco

pytestmark = pytest.mark.django_db

SKILLS = [("knowledge", f"concept number {n}") for n in range(4)]


def test_a_version_being_embedded_shows_its_progress_and_then_its_date(personas, tmp_path, embedding_model):
    from matching import services

    version = import_framework("esco", str(write_esco(tmp_path / "esco", skills=SKILLS))).version
    statements = list(Statement.objects.filter(version=version).order_by("pk"))
    half = statements[: len(statements) // 2]
    embeddings.vectors_by_hash({s.text_hash: s.text for s in half})  # the worker is half-way
    page = personas.client_for(personas.convener).get(reverse("matching:frameworks")).content.decode()
    assert f"50 % — {len(half)} of {len(statements)} statements" in page
    assert re.search(r'aria-valuenow="50"', page)

    services.framework_version_embed(version=version)
    page = personas.client_for(personas.convener).get(reverse("matching:frameworks")).content.decode()
    assert "statements</div>" not in page and "bi-check-circle" in page


def test_the_versions_table_follows_the_embedding_and_stops_when_it_is_done(personas, tmp_path, embedding_model):
    from matching import services

    version = import_framework("esco", str(write_esco(tmp_path / "esco", skills=SKILLS))).version
    client = personas.client_for(personas.convener)
    url = reverse("matching:frameworks") + "?part=versions"
    page = client.get(reverse("matching:frameworks")).content.decode()
    assert 'hx-trigger="every 3s"' in page, "the table polls while the worker has work left"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "not yet (4 statements)" in fragment.content.decode()

    services.frameworks_embed(kinds=["esco"])  # what the worker's warm-up does
    version.refresh_from_db()
    assert version.embedded_at is not None
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 286, "once everything is embedded the table stops polling"
    assert "bi-check-circle" in fragment.content.decode()
    assert 'hx-trigger="every 3s"' not in client.get(reverse("matching:frameworks")).content.decode()

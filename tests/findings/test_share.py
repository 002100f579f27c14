"""Read-only share links: conveners publish and revoke them; anyone with a valid link reads the findings."""

import pytest

from findings.models import ActionItem, ShareLink
from findings.tables import PAGES
from tests.findings.conftest import client_for


@pytest.fixture
def link(mini, mini_people):
    client = client_for(mini_people["convener"])
    response = client.post("/cycles/mini/findings/share/", {"label": "Sponsor board"})
    assert response.status_code == 302
    return ShareLink.objects.get(cycle=mini["cycle"])


def test_a_convener_publishes_a_link_with_an_unguessable_token(link, mini_people):
    assert len(link.token) >= 40 and link.is_active and link.label == "Sponsor board"
    page = client_for(mini_people["convener"]).get("/cycles/mini/findings/share/").content.decode()
    assert f"/share/{link.token}/" in page


def test_anyone_with_a_valid_link_reads_every_findings_page_the_report_and_the_plan(link, mini):
    ActionItem.objects.create(
        cycle=mini["cycle"], topic="Shared action", action="x", owner=mini["fops"][0].cycle.created_by
    )
    anonymous = client_for(None)
    assert anonymous.get(f"/share/{link.token}/").status_code == 200
    for page in PAGES:
        response = anonymous.get(f"/share/{link.token}/{page.key}/")
        assert response.status_code == 200, page.key
        assert response.context["share_token"] == link.token
    assert anonymous.get(f"/share/{link.token}/fop_matrix/download.csv").status_code == 200
    assert anonymous.get(f"/share/{link.token}/fop_matrix/download.xlsx").status_code == 200
    report = anonymous.get(f"/share/{link.token}/report/")
    assert report.status_code == 200 and "Write this section" not in report.content.decode()
    plan = anonymous.get(f"/share/{link.token}/actions/")
    assert plan.status_code == 200 and "Shared action" in plan.content.decode()


def test_shared_pages_never_show_member_emails_or_editing_links(link, mini, mini_people):
    ActionItem.objects.create(cycle=mini["cycle"], topic="Owned", action="x", owner=mini_people["technologist"])
    anonymous = client_for(None)
    paths = [f"/share/{link.token}/", f"/share/{link.token}/report/", f"/share/{link.token}/actions/"]
    paths += [f"/share/{link.token}/{p.key}/" for p in PAGES]
    for path in paths:
        text = anonymous.get(path).content.decode()
        for person in mini_people.values():
            assert person.email not in text, path
        assert "Technologist Mini" not in text  # owners are not named to the public
        assert "/actions/new/" not in text and "/findings/share/" not in text and "Log out" not in text


def test_a_revoked_or_unknown_link_opens_nothing(link, mini_people):
    client = client_for(mini_people["convener"])
    assert client.post(f"/cycles/mini/findings/share/{link.pk}/revoke/").status_code == 302
    link.refresh_from_db()
    assert not link.is_active and link.revoked_by == mini_people["convener"]
    anonymous = client_for(None)
    assert anonymous.get(f"/share/{link.token}/").status_code == 404
    assert anonymous.get(f"/share/{link.token}/overview/").status_code == 404
    assert anonymous.get(f"/share/{link.token}/report/").status_code == 404
    assert anonymous.get(f"/share/{link.token}/overview/download.csv").status_code == 404
    assert anonymous.get("/share/not-a-real-token/").status_code == 404


def test_only_conveners_publish_or_revoke_links(link, mini_people):
    for who, status in (("technologist", 403), ("observer", 403), ("outsider", 404)):
        client = client_for(mini_people[who])
        assert client.get("/cycles/mini/findings/share/").status_code == status
        assert client.post("/cycles/mini/findings/share/", {"label": "x"}).status_code == status
        assert client.post(f"/cycles/mini/findings/share/{link.pk}/revoke/").status_code == status
    assert client_for(None).post(f"/cycles/mini/findings/share/{link.pk}/revoke/").status_code == 302
    link.refresh_from_db()
    assert link.is_active
    assert ShareLink.objects.count() == 1


def test_a_link_of_one_cycle_shows_only_that_cycle(link, mini):
    text = client_for(None).get(f"/share/{link.token}/fop_matrix/").content.decode()
    assert "Validation Engineer" in text
    assert "Validation Specialist (other cycle)" not in text

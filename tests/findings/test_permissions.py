"""Who may open which findings URL: members read, conveners change, outsiders see nothing."""

import pytest

from findings.models import ActionItem, ExportJob
from findings.tables import PAGES
from tests.findings.conftest import client_for

READ = (
    [
        "/cycles/mini/findings/",
        "/cycles/mini/report/",
        "/cycles/mini/actions/",
        "/cycles/mini/findings/exports/",
    ]
    + [f"/cycles/mini/findings/{p.key}/" for p in PAGES]
    + [
        f"/cycles/mini/findings/{key}/download.{fmt}"
        for key in ("overview", "fop_matrix", "ksb")
        for fmt in ("csv", "xlsx")
    ]
)
CONVENER_ONLY = [
    "/cycles/mini/findings/share/",
    "/cycles/mini/actions/new/",
    "/cycles/mini/report/sections/executive_summary/",
]


@pytest.mark.parametrize("path", READ)
@pytest.mark.parametrize(
    ("who", "status"), [("convener", 200), ("technologist", 200), ("observer", 200), ("outsider", 404)]
)
def test_members_read_the_findings_and_outsiders_get_not_found(mini, mini_people, path, who, status):
    assert client_for(mini_people[who]).get(path).status_code == status


@pytest.mark.parametrize("path", READ + CONVENER_ONLY + ["/findings/search/"])
def test_anonymous_visitors_are_sent_to_log_in(mini, path):
    response = client_for(None).get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", CONVENER_ONLY)
@pytest.mark.parametrize(
    ("who", "status"), [("convener", 200), ("technologist", 403), ("observer", 403), ("outsider", 404)]
)
def test_only_conveners_open_the_editing_pages(mini, mini_people, path, who, status):
    assert client_for(mini_people[who]).get(path).status_code == status


@pytest.mark.parametrize(("who", "status"), [("technologist", 403), ("observer", 403), ("outsider", 404)])
def test_only_conveners_change_an_action(mini, mini_people, who, status):
    item = ActionItem.objects.create(cycle=mini["cycle"], topic="Keep", action="x")
    client = client_for(mini_people[who])
    assert client.get(f"/cycles/mini/actions/{item.pk}/edit/").status_code == status
    assert client.post(f"/cycles/mini/actions/{item.pk}/delete/").status_code == status
    assert ActionItem.objects.filter(pk=item.pk).exists()


def test_an_action_of_another_cycle_is_not_found_through_this_one(mini, mini_people):
    other = ActionItem.objects.create(cycle=mini["other"], topic="Elsewhere", action="x")
    assert client_for(mini_people["convener"]).get(f"/cycles/mini/actions/{other.pk}/edit/").status_code == 404


def test_an_export_of_another_cycle_is_not_found_through_this_one(mini, mini_people):
    job = ExportJob.objects.create(cycle=mini["other"], kind="workbook", requested_by=mini_people["convener"])
    assert client_for(mini_people["convener"]).get(f"/cycles/mini/findings/exports/{job.pk}/").status_code == 404


@pytest.mark.parametrize("key", [p.key for p in PAGES])
def test_every_page_answers_htmx_with_its_results_fragment(mini, mini_people, key):
    response = client_for(mini_people["observer"]).get(f"/cycles/mini/findings/{key}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="results"') and "<html" not in text


def test_findings_pages_never_show_individual_votes_or_member_emails(mini, mini_people):
    from workshops.models import DelphiItem, Round, Vote

    item = DelphiItem.objects.filter(cycle=mini["cycle"]).first()
    rnd = Round.objects.create(cycle=mini["cycle"], number=1, status="closed")
    Vote.objects.create(
        round=rnd, item=item, panellist=mini_people["technologist"], value=2, rationale="My secret rationale"
    )
    client = client_for(mini_people["observer"])
    for path in [f"/cycles/mini/findings/{p.key}/" for p in PAGES] + ["/cycles/mini/report/", "/cycles/mini/actions/"]:
        text = client.get(path).content.decode()
        assert "My secret rationale" not in text, path
        assert mini_people["technologist"].email not in text, path

"""What the endpoints answer: the pages' own figures, withheld where the pages withhold them."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from cycles.models import Membership
from findings.exports import table_csv
from findings.tables import PAGES, build_page
from tests.portability.fixtures import build_rich_cycle
from workshops.delphi.selectors import consensus_results
from workshops.models import FOP, Capability


@pytest.fixture
def rich(personas):
    return build_rich_cycle(personas)


def _get(client, name: str, query: dict | None = None, **kwargs):
    response = client.get(reverse(f"api:v1:{name}", kwargs=kwargs), query or {})
    assert response.status_code == 200, (name, response.status_code, response.content[:300])
    return response.json() if response["Content-Type"].startswith("application/json") else response


def test_it_lists_the_callers_cycles_with_their_role(personas, api_client):
    body = _get(api_client("technologist"), "cycle_list")
    assert body["count"] == 1 and [(c["slug"], c["role"]) for c in body["items"]] == [("cycle-a", "technologist")]
    outsider = _get(api_client("outsider"), "cycle_list")
    assert [c["slug"] for c in outsider["items"]] == ["cycle-b"]


def test_it_says_who_the_token_acts_for(personas, api_client):
    assert _get(api_client("educator"), "me") == {"email": "educator@a.test", "display_name": "Educator A", "cycles": 1}


def test_a_removed_member_loses_the_cycle_at_once(personas, api_client):
    client = api_client("employer")
    Membership.objects.filter(user=personas.employer).update(status=Membership.Status.REMOVED)
    assert client.get(reverse("api:v1:cycle_detail", args=["cycle-a"])).status_code == 404
    assert _get(client, "cycle_list")["count"] == 0


def test_capabilities_filter_by_status_as_the_capture_page(rich, api_client):
    client = api_client("observer")
    open_refs = [c["ref"] for c in _get(client, "capability_list", slug=rich.slug)["items"]]
    assert open_refs == ["C01", "C02", "C03"]
    merged = _get(client, "capability_list", {"status": "merged"}, slug=rich.slug)["items"]
    assert [(c["ref"], c["merged_into"]) for c in merged] == [("C99", "C01")]
    assert client.get(reverse("api:v1:capability_list", args=[rich.slug]), {"status": "nonsense"}).status_code == 422


def test_lists_are_paginated(rich, api_client):
    client = api_client("convener")
    page = _get(client, "capability_list", {"status": "all", "limit": 2, "offset": 1}, slug=rich.slug)
    assert page["count"] == 4 and [c["ref"] for c in page["items"]] == ["C02", "C03"]
    url = reverse("api:v1:capability_list", args=[rich.slug])
    assert client.get(url, {"limit": 501}).status_code == 422
    assert client.get(url, {"offset": -1}).status_code == 422


def test_a_panellist_gets_no_statistics_of_an_item_with_fewer_than_three_answers(rich, api_client):
    # Round 1's one result has two answers: the convener sees it, a panellist sees that it exists only.
    def first(role):
        return _get(api_client(role), "delphi_results", slug=rich.slug)["items"][0]

    convener, panellist = first("convener"), first("technologist")
    assert convener["withheld"] is False and convener["proficiency"] == 2
    assert convener["result"] == {"round": 1, "n": 2, "median": 2.5, "iqr": 1.0, "agreement": 0.5}
    assert panellist["withheld"] is True and panellist["proficiency"] is None and panellist["proficiency_label"] == ""
    assert panellist["result"] == {"round": 1, "n": 2, "median": None, "iqr": None, "agreement": None}


def test_delphi_results_are_the_results_pages_rows(rich, personas, api_client):
    items = _get(api_client("employer"), "delphi_results", slug=rich.slug)["items"]
    rows = consensus_results(cycle=rich, is_convener=False)
    assert [(i["capability"]["ref"], i["role_level"]["name"], i["proficiency"], i["withheld"]) for i in items] == [
        (r["capability"].ref, r["role_level"].name, r["value"], r["withheld"]) for r in rows
    ]


def test_fops_come_with_their_proficiencies(rich, personas, api_client):
    fop = FOP.objects.get(cycle=rich, name="Point-of-care technician")
    body = _get(api_client("educator"), "fop_list", slug=rich.slug)
    [listed] = [f for f in body["items"] if f["id"] == fop.pk]
    assert [(p["capability"]["ref"], p["proficiency"], p["proficiency_label"]) for p in listed["proficiencies"]] == [
        ("C01", 2, "Practitioner"),
        ("C02", 3, "Expert"),
    ]
    assert _get(api_client("educator"), "fop_detail", slug=rich.slug, fop_id=fop.pk) == listed


def test_another_cycles_fop_is_not_found(rich, personas, api_client):
    other = FOP.objects.create(cycle=personas.other_cycle, name="Elsewhere")
    response = api_client("convener").get(reverse("api:v1:fop_detail", args=[rich.slug, other.pk]))
    assert response.status_code == 404


def test_match_results_follow_the_threshold(rich, api_client):
    client = api_client("technologist")
    [run] = _get(client, "match_run_list", slug=rich.slug)["items"]
    detail = _get(client, "match_run_detail", slug=rich.slug, run_id=run["id"])
    assert detail["summary"]["threshold"] == 0.5
    [match] = _get(client, "match_run_capabilities", slug=rich.slug, run_id=run["id"])["items"]
    assert match["capability"]["ref"] == "C01" and match["score"] == 0.75
    assert match["best"]["ref"] == "D1" and match["best"]["standard"]["ref"] == "ST0001"
    assert match["review"] == "confirm" and match["matched"] is True


@pytest.mark.parametrize("page", [p.key for p in PAGES])
def test_every_findings_table_is_the_pages_table(rich, api_client, page):
    client = api_client("observer")
    data = build_page(page, rich, {})
    body = _get(client, "findings_page", slug=rich.slug, key=page)
    assert [t["key"] for t in body["tables"]] == [t.key for t in data.tables]
    for table, listed in zip(data.tables, body["tables"], strict=True):
        assert [c["label"] for c in listed["columns"]] == table.header
        assert len({c.key for c in table.columns}) == len(table.columns), "column keys name a row's cells"
        rows = _get(client, "findings_table", {"limit": 500}, slug=rich.slug, key=page, table=table.key)
        assert rows["count"] == len(table.rows)
        assert [[row[c.key] for c in table.columns] for row in rows["items"]] == table.value_rows()
        csv_response = _get(client, "findings_table_csv", slug=rich.slug, key=page, table=table.key)
        assert csv_response.content.decode() == table_csv(table)


def test_findings_tables_take_the_pages_filters_and_search(rich, api_client):
    client = api_client("convener")
    searched = _get(client, "findings_table", {"q": "unit 1"}, slug=rich.slug, key="functions", table="capabilities")
    expected = build_page("functions", rich, {"q": "unit 1"}).table("capabilities")
    assert searched["count"] == len(expected.rows) == 1


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(rich, api_client):
    Capability.objects.filter(cycle=rich, ref="C01").update(statement='=HYPERLINK("http://evil.test","x")')
    response = _get(api_client("convener"), "findings_table_csv", slug=rich.slug, key="functions", table="capabilities")
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert '\'=HYPERLINK("http://evil.test","x")' in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert response["Content-Disposition"] == f'attachment; filename="{rich.slug}-functions-capabilities.csv"'


def test_an_unknown_findings_page_or_table_is_refused(rich, api_client):
    client = api_client("convener")
    assert client.get(reverse("api:v1:findings_page", args=[rich.slug, "nope"])).status_code == 422
    missing = reverse("api:v1:findings_table", args=[rich.slug, "overview", "nope"])
    assert client.get(missing).status_code == 404


NONSENSE = ["abc", "-1", "99999999999999999999999", "1e309", "\x00", "=1+2"]


@pytest.mark.parametrize("page", [p.key for p in PAGES])
def test_the_pages_own_filters_take_any_value_without_failing(rich, api_client, page):
    # The filters pass through to the page builder undeclared in the schema, so the fuzz run does not
    # reach them: every filter of the page at once gets values no form would send.
    client = api_client("convener")
    data = build_page(page, rich, {})
    names = [f.name for f in data.filters if f.name not in ("q", "threshold")] + ["top"]
    for value in NONSENSE:
        response = client.get(reverse("api:v1:findings_page", args=[rich.slug, page]), dict.fromkeys(names, value))
        assert response.status_code == 200, (page, value, response.status_code)

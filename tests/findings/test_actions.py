"""The action plan: conveners add, change and remove actions; members read; overdue ones stand out."""

from datetime import date, timedelta

from findings import demo as findings_demo
from findings.models import ActionItem, Horizon
from tests.findings.builders import CGT, DATA_DIR, POC, seed
from tests.findings.conftest import client_for


def _form(**overrides):
    data = {
        "horizon": Horizon.SHORT,
        "topic": "Short CPD on digital batch records",
        "action": "Commission a two-day course.",
        "who": "Training providers",
        "when": "Q3",
        "due_date": "",
        "expected_result": "Course available",
        "owner": "",
        "status": ActionItem.Status.PLANNED,
    }
    data.update(overrides)
    return data


def test_the_demo_cycles_show_their_published_actions(demo):
    assert ActionItem.objects.filter(cycle=demo[CGT]).count() == len(seed(CGT)["actions"]) == 10
    assert ActionItem.objects.filter(cycle=demo[POC]).count() == len(seed(POC)["actions"]) == 6
    first = ActionItem.objects.filter(cycle=demo[CGT]).order_by("order").first()
    assert (first.horizon, first.when, first.source) == ("short", "Q1 2025", "published")
    assert set(ActionItem.objects.filter(cycle=demo[CGT]).values_list("horizon", flat=True)) == {
        "short",
        "medium",
        "general",
        "additional",
    }


def test_loading_the_demo_actions_twice_adds_nothing(demo):
    counts = findings_demo.load(DATA_DIR)
    assert counts == {CGT: 0, POC: 0}
    assert ActionItem.objects.filter(cycle=demo[CGT]).count() == 10


def test_a_convener_adds_an_action_linked_to_fops_and_capabilities(mini, mini_people):
    client = client_for(mini_people["convener"])
    f1 = mini["fops"][0]
    c1 = mini["caps"][0]
    response = client.post(
        "/cycles/mini/actions/new/",
        _form(fops=[f1.id], capabilities=[c1.id], owner=mini_people["technologist"].id),
        follow=True,
    )
    assert response.status_code == 200
    item = ActionItem.objects.get(cycle=mini["cycle"], topic="Short CPD on digital batch records")
    assert list(item.fops.all()) == [f1] and list(item.capabilities.all()) == [c1]
    assert item.owner == mini_people["technologist"]
    assert "added to the plan" in response.content.decode()
    assert mini["cycle"].audit_events.filter(verb="action.created").exists()


def test_a_bad_action_form_says_what_is_wrong_and_changes_nothing(mini, mini_people):
    client = client_for(mini_people["convener"])
    response = client.post("/cycles/mini/actions/new/", _form(topic="", due_date="not a date"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required" in text and "Enter a valid date" in text
    assert not ActionItem.objects.filter(cycle=mini["cycle"]).exists()


def test_a_convener_edits_and_removes_an_action(mini, mini_people):
    client = client_for(mini_people["convener"])
    item = ActionItem.objects.create(cycle=mini["cycle"], topic="Review standards", action="Review them.")
    response = client.post(f"/cycles/mini/actions/{item.pk}/edit/", _form(topic="Review standards", status="done"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "done"
    event = mini["cycle"].audit_events.get(verb="action.updated")
    assert event.detail["changed"]["status"] == ["planned", "done"]
    assert client.post(f"/cycles/mini/actions/{item.pk}/delete/").status_code == 302
    assert not ActionItem.objects.filter(pk=item.pk).exists()


def test_overdue_actions_are_highlighted(mini, mini_people):
    yesterday = date.today() - timedelta(days=2)
    late = ActionItem.objects.create(cycle=mini["cycle"], topic="Late one", action="x", due_date=yesterday)
    ActionItem.objects.create(cycle=mini["cycle"], topic="Done one", action="x", due_date=yesterday, status="done")
    ActionItem.objects.create(
        cycle=mini["cycle"], topic="Future one", action="x", due_date=date.today() + timedelta(days=30)
    )
    assert late.is_overdue
    response = client_for(mini_people["observer"]).get("/cycles/mini/actions/")
    text = response.content.decode()
    assert "1 action overdue" in text
    assert text.count("action-overdue") == 1
    assert f'id="action-{late.pk}"' in text


def test_members_read_the_plan_but_only_conveners_change_it(mini, mini_people):
    item = ActionItem.objects.create(cycle=mini["cycle"], topic="Read me", action="x")
    technologist = client_for(mini_people["technologist"])
    page = technologist.get("/cycles/mini/actions/")
    assert page.status_code == 200 and "Read me" in page.content.decode()
    assert "Add an action" not in page.content.decode()
    assert technologist.get("/cycles/mini/actions/new/").status_code == 403
    assert technologist.post(f"/cycles/mini/actions/{item.pk}/edit/", _form()).status_code == 403
    assert technologist.post(f"/cycles/mini/actions/{item.pk}/delete/").status_code == 403
    outsider = client_for(mini_people["outsider"])
    assert outsider.get("/cycles/mini/actions/").status_code == 404
    assert outsider.post(f"/cycles/mini/actions/{item.pk}/delete/").status_code == 404
    anonymous = client_for(None).get("/cycles/mini/actions/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert ActionItem.objects.filter(pk=item.pk).exists()


def test_the_plan_filters_by_horizon_and_status_and_serves_an_htmx_fragment(mini, mini_people):
    ActionItem.objects.create(cycle=mini["cycle"], topic="Short one", action="x", horizon="short")
    ActionItem.objects.create(cycle=mini["cycle"], topic="Long one", action="x", horizon="long", status="done")
    client = client_for(mini_people["convener"])
    response = client.get("/cycles/mini/actions/", {"horizon": "long"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "Long one" in text and "Short one" not in text and "<html" not in text
    open_only = client.get("/cycles/mini/actions/", {"status": "open"}).content.decode()
    assert "Short one" in open_only and "Long one" not in open_only

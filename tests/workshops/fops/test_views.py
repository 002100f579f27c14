"""FOP and KSB pages for every persona: who may see, who may act, and what the actions do."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.jobs import STALE_AFTER
from tests.workshops.fops.factories import build_needs, make_fop
from workshops.fops import providers as fop_providers
from workshops.fops.proposals import ALREADY_RUNNING, NEVER_FINISHED
from workshops.fops.selectors import fop_history_verify
from workshops.models import FOP, CapabilityTag, FOPCapability, FOPProposalRun, Tag
from workshops.tags.services import tag_add

MEMBERS = ["convener", "technologist", "employer", "educator", "observer"]


@pytest.fixture(autouse=True)
def _no_embeddings_in_page_tests():
    # Page tests check access and wiring; suggestions and matches have their own tests with the
    # real model. Without the providers the pages say the section is unavailable.
    for name in ("suggest_tags", "similar_tag_pairs", "best_matches"):
        fop_providers.override(name, None)
    yield
    fop_providers.reset()


@pytest.fixture
def world(personas):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:3], role_level=levels[0], reviewers=[personas.employer])
    other = make_fop(personas.cycle, capabilities=caps[4:6], role_level=levels[0], name="QA Officer")
    link = tag_add(capability=caps[0], actor=None, kind="K", name="Cold chain")
    return {"p": personas, "fop": fop, "other": other, "caps": caps, "levels": levels, "tag": link.tag}


def page_urls(w):
    slug, fop, cap = w["p"].cycle.slug, w["fop"], w["caps"][0]
    return {
        "fops": reverse("workshops:fops", args=[slug]),
        "matrix": reverse("workshops:fop_matrix", args=[slug]),
        "compare": reverse("workshops:fop_compare", args=[slug]),
        "detail": reverse("workshops:fop_detail", args=[slug, fop.pk]),
        "history": reverse("workshops:fop_history", args=[slug, fop.pk]),
        "trace": reverse("workshops:capability_trace", args=[slug, cap.pk]),
        "tags": reverse("workshops:tags", args=[slug]),
        "tag_capability": reverse("workshops:tag_capability", args=[slug, cap.pk]),
        "tag_frequency": reverse("workshops:tag_frequency", args=[slug]),
    }


def convener_urls(w):
    slug, fop = w["p"].cycle.slug, w["fop"]
    return {
        "propose": reverse("workshops:fop_propose", args=[slug]),
        "new": reverse("workshops:fop_new", args=[slug]),
        "split": reverse("workshops:fop_split", args=[slug, fop.pk]),
        "tag_merge": reverse("workshops:tag_merge", args=[slug]),
    }


@pytest.mark.parametrize("who", MEMBERS)
def test_every_member_sees_the_fop_and_tag_pages(world, who):
    client = world["p"].client_for(getattr(world["p"], who))
    for name, url in page_urls(world).items():
        response = client.get(url)
        assert response.status_code == 200, name


@pytest.mark.parametrize("who", MEMBERS)
def test_only_the_convener_opens_the_convener_screens(world, who):
    client = world["p"].client_for(getattr(world["p"], who))
    for name, url in convener_urls(world).items():
        assert client.get(url).status_code == (200 if who == "convener" else 403), name


def test_outsiders_get_404_and_anonymous_visitors_are_sent_to_log_in(world):
    outsider = world["p"].client_for(world["p"].outsider)
    anonymous = world["p"].client_for(None)
    for name, url in {**page_urls(world), **convener_urls(world)}.items():
        assert outsider.get(url).status_code == 404, name
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login" in response["Location"], name


# --- actions ------------------------------------------------------------------------------------------


def post_as(world, who, name, *args, data=None, htmx=False):
    client = world["p"].client_for(getattr(world["p"], who))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse(f"workshops:{name}", args=[world["p"].cycle.slug, *args]), data or {}, **headers)


def proficiency(world, cap_index=0):
    return FOPCapability.objects.get(fop=world["fop"], capability=world["caps"][cap_index]).proficiency


@pytest.mark.parametrize(
    ("who", "status"),
    [("convener", 302), ("employer", 302), ("technologist", 403), ("educator", 403), ("observer", 403)],
)
def test_who_may_uprate_a_proficiency(world, who, status):
    response = post_as(
        world, who, "fop_capability_change", world["fop"].pk, world["caps"][0].pk, data={"proficiency": 3}
    )
    assert response.status_code == status
    assert proficiency(world) == (3 if status == 302 else 2)
    assert fop_history_verify(fop=world["fop"]).ok


def test_an_employer_not_assigned_cannot_change_the_fop(world):
    response = post_as(
        world, "employer", "fop_capability_change", world["other"].pk, world["caps"][4].pk, data={"proficiency": 3}
    )
    assert response.status_code == 403
    assert FOPCapability.objects.get(fop=world["other"], capability=world["caps"][4]).proficiency == 2


def test_an_htmx_uprate_returns_the_refreshed_fop_body_with_a_message(world):
    response = post_as(
        world,
        "employer",
        "fop_capability_change",
        world["fop"].pk,
        world["caps"][0].pk,
        data={"proficiency": 3},
        htmx=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="fop-body"' in html and "<html" not in html
    assert "C01 proficiency saved. Expert in “Validation Engineer” (it was Practitioner)." in html


def test_a_bad_proficiency_says_so_and_changes_nothing(world):
    response = post_as(
        world,
        "employer",
        "fop_capability_change",
        world["fop"].pk,
        world["caps"][0].pk,
        data={"proficiency": 7},
        htmx=True,
    )
    assert "Awareness (1), Practitioner (2) or Expert (3)" in response.content.decode()
    assert proficiency(world) == 2


@pytest.mark.parametrize(("who", "status"), [("employer", 302)] + [(w, 403) for w in MEMBERS if w != "employer"])
def test_only_the_assigned_employer_ratifies(world, who, status):
    response = post_as(world, who, "fop_ratify", world["fop"].pk, data={"comment": "Fine"})
    assert response.status_code == status
    world["fop"].refresh_from_db()
    assert world["fop"].status == (FOP.Status.RATIFIED if status == 302 else FOP.Status.IN_REVIEW)


def test_returning_without_a_comment_is_refused_with_a_message(world):
    client = world["p"].client_for(world["p"].employer)
    url = reverse("workshops:fop_return", args=[world["p"].cycle.slug, world["fop"].pk])
    response = client.post(url, {"comment": ""}, follow=True)
    assert "comment is required" in response.content.decode()
    world["fop"].refresh_from_db()
    assert world["fop"].status == FOP.Status.IN_REVIEW


@pytest.mark.parametrize(("who", "status"), [("convener", 302)] + [(w, 403) for w in MEMBERS if w != "convener"])
def test_only_the_convener_assigns_reviewers_merges_reopens_and_deletes(world, who, status):
    p = world["p"]
    assert (
        post_as(world, who, "fop_reviewers", world["other"].pk, data={"reviewers": [p.employer.pk]}).status_code
        == status
    )
    assert post_as(world, who, "fop_merge", data={"fops": [world["other"].pk, world["fop"].pk]}).status_code == status
    assert post_as(world, who, "fop_delete", world["other"].pk).status_code in ({status} if status == 403 else {302})
    if status == 403:
        assert FOP.objects.filter(pk=world["other"].pk).exists()


def test_the_convener_creates_a_fop_and_the_form_reports_a_missing_title(world):
    client = world["p"].client_for(world["p"].convener)
    url = reverse("workshops:fop_new", args=[world["p"].cycle.slug])
    response = client.post(url, {"name": "", "role_level": world["levels"][0].pk})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(url, {"name": "Automation Lead", "role_level": world["levels"][0].pk})
    fop = FOP.objects.get(name="Automation Lead")
    assert response.status_code == 302 and response["Location"].endswith(f"/fops/{fop.pk}/")
    assert fop.source == FOP.Source.MANUAL and fop_history_verify(fop=fop).ok


def test_the_convener_splits_a_fop_from_its_page(world):
    client = world["p"].client_for(world["p"].convener)
    url = reverse("workshops:fop_split", args=[world["p"].cycle.slug, world["fop"].pk])
    response = client.post(url, {"new_name": "Logistics", "capabilities": [world["caps"][2].pk]})
    assert response.status_code == 302
    assert FOP.objects.get(name="Logistics").entries.get().capability == world["caps"][2]


def test_the_history_page_shows_who_changed_what_and_that_it_verifies(world):
    post_as(
        world,
        "employer",
        "fop_capability_change",
        world["fop"].pk,
        world["caps"][0].pk,
        data={"proficiency": 3, "reason": "Hubs need experts"},
    )
    response = (
        world["p"]
        .client_for(world["p"].observer)
        .get(reverse("workshops:fop_history", args=[world["p"].cycle.slug, world["fop"].pk]))
    )
    html = response.content.decode()
    assert "The history verifies" in html
    assert "Employer A" in html and "proficiency uprated" in html and "Hubs need experts" in html
    assert "Practitioner" in html and "Expert" in html


def test_a_tampered_history_shows_on_the_fop_page(world):
    world["fop"].history.filter(action="create").update(reason="forged")
    response = (
        world["p"]
        .client_for(world["p"].observer)
        .get(reverse("workshops:fop_detail", args=[world["p"].cycle.slug, world["fop"].pk]))
    )
    assert "History does not verify" in response.content.decode()


def test_the_matrix_filters_by_role_level_and_hides_empty_rows(world):
    client = world["p"].client_for(world["p"].observer)
    url = reverse("workshops:fop_matrix", args=[world["p"].cycle.slug])
    html = client.get(url).content.decode()
    assert "C01" in html and "C09" not in html  # C09 is in no FOP
    assert "C09" in client.get(url, {"show_empty": "1"}).content.decode()
    html = client.get(url, {"role_level": world["levels"][1].pk}).content.decode()
    assert "Nothing to show" in html


# --- proposal runs (the computation itself is tested in test_fop_proposals.py) ---------------------

GOOD_PARAMETERS = {"max_size": 4, "min_size": 2, "similarity": 0.3}


def propose_url(world):
    return reverse("workshops:fop_propose", args=[world["p"].cycle.slug])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({**GOOD_PARAMETERS, "max_size": 1}, "greater than or equal to 2"),
        ({**GOOD_PARAMETERS, "similarity": 1.5}, "less than or equal to 1"),
        ({**GOOD_PARAMETERS, "similarity": "high"}, "Enter a number"),
        ({**GOOD_PARAMETERS, "min_size": 6}, "The smallest profile cannot be larger than the largest."),
    ],
)
def test_a_bad_parameter_re_renders_the_form_with_its_error_and_queues_nothing(
    world, data, error, django_capture_on_commit_callbacks
):
    client = world["p"].client_for(world["p"].convener)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(propose_url(world), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html and "is-invalid" in html
    assert not FOPProposalRun.objects.exists() and callbacks == []


@pytest.mark.parametrize("status", [FOPProposalRun.Status.QUEUED, FOPProposalRun.Status.RUNNING])
def test_a_second_run_is_refused_while_one_is_queued_or_running(world, status, django_capture_on_commit_callbacks):
    cycle = world["p"].cycle
    FOPProposalRun.objects.create(cycle=cycle, status=status, started_at=timezone.now(), parameters=GOOD_PARAMETERS)
    client = world["p"].client_for(world["p"].convener)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(propose_url(world), GOOD_PARAMETERS)
    assert response.status_code == 409
    html = response.content.decode()
    assert ALREADY_RUNNING in html
    assert 'hx-trigger="every 2s"' in html  # and the page keeps showing the active run
    assert FOPProposalRun.objects.filter(cycle=cycle).count() == 1 and callbacks == []


def test_a_run_not_heard_from_for_stale_after_no_longer_blocks_the_cycle(world, django_capture_on_commit_callbacks):
    cycle = world["p"].cycle
    lost = FOPProposalRun.objects.create(
        cycle=cycle,
        status=FOPProposalRun.Status.RUNNING,
        started_at=timezone.now() - STALE_AFTER - timedelta(minutes=1),
    )
    client = world["p"].client_for(world["p"].convener)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(propose_url(world), GOOD_PARAMETERS)
    assert response.status_code == 302 and len(callbacks) == 1
    lost.refresh_from_db()
    assert lost.status == FOPProposalRun.Status.FAILED and lost.error == NEVER_FINISHED
    new = FOPProposalRun.objects.exclude(pk=lost.pk).get()
    assert new.status == FOPProposalRun.Status.QUEUED and new.created_by == world["p"].convener


def test_the_htmx_status_request_returns_only_the_fragment_and_stops_polling_when_the_run_ends(world):
    cycle = world["p"].cycle
    run = FOPProposalRun.objects.create(
        cycle=cycle, status=FOPProposalRun.Status.RUNNING, started_at=timezone.now(), parameters=GOOD_PARAMETERS
    )
    client = world["p"].client_for(world["p"].convener)
    response = client.get(propose_url(world), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<div id="fop-run-status"') and "<html" not in html and "<form" not in html
    assert f'hx-get="{propose_url(world)}"' in html and 'hx-trigger="every 2s"' in html
    assert "Proposing FOPs" in html
    run.status, run.finished_at = FOPProposalRun.Status.DONE, timezone.now()
    run.summary = {"created": 5, "needed_items": 12, "replaced": 3, "kept": 1}
    run.save()
    response = client.get(propose_url(world), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 286  # htmx: stop polling
    assert "5 FOPs proposed from 12 needed items (3 earlier proposals replaced, 1 kept" in html
    assert "hx-trigger" not in html
    assert world["p"].client_for(world["p"].employer).get(propose_url(world), HTTP_HX_REQUEST="true").status_code == 403


# --- tags ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("convener", 302), ("educator", 302), ("technologist", 403), ("employer", 403), ("observer", 403)],
)
def test_only_educators_and_the_convener_tag_capabilities(world, who, status):
    response = post_as(world, who, "tag_add", world["caps"][1].pk, data={"kind": "S", "name": "Perform data analysis"})
    assert response.status_code == status
    assert CapabilityTag.objects.filter(capability=world["caps"][1]).exists() == (status == 302)
    response = post_as(world, who, "tag_remove", world["caps"][0].pk, world["tag"].pk)
    assert response.status_code == status


def test_a_tag_typed_differently_collapses_into_the_existing_one(world):
    post_as(world, "educator", "tag_add", world["caps"][1].pk, data={"kind": "K", "name": "  COLD   chain "})
    assert Tag.objects.filter(kind="K").count() == 1
    assert CapabilityTag.objects.filter(tag=world["tag"]).count() == 2


def test_the_same_tag_twice_on_a_capability_is_refused_with_a_message(world):
    response = post_as(
        world, "educator", "tag_add", world["caps"][0].pk, data={"kind": "K", "name": "cold-chain"}, htmx=True
    )
    assert "C01 already has the Knowledge tag “Cold chain”" in response.content.decode()


def test_the_convener_merges_tags(world):
    second = tag_add(capability=world["caps"][1], actor=None, kind="K", name="Cold chain logistics").tag
    response = post_as(world, "convener", "tag_merge", data={"source": second.pk, "target": world["tag"].pk})
    assert response.status_code == 302
    assert set(CapabilityTag.objects.values_list("tag_id", flat=True)) == {world["tag"].pk}
    second.refresh_from_db()
    assert second.merged_into == world["tag"]


def test_the_tag_frequency_page_and_csv_count_capabilities_per_tag(world):
    tag_add(capability=world["caps"][1], actor=None, kind="K", name="Cold chain")
    client = world["p"].client_for(world["p"].observer)
    url = reverse("workshops:tag_frequency", args=[world["p"].cycle.slug])
    assert "Cold chain" in client.get(url).content.decode()
    csv_text = client.get(url, {"format": "csv"}).content.decode()
    assert "Knowledge,Cold chain,2," in csv_text


# --- add / remove / uprate: what the user sees -------------------------------------------------------


def undo_of(html):
    """The confirmation's text and its Undo form (action and hidden fields)."""
    import re

    block = re.search(r'<div class="alert alert-success[^"]*" role="status" id="fop-done">(.*?)</div>', html, re.S)
    assert block, "no confirmation shown"
    text = re.search(r"<span>(.*?)</span>", block.group(1), re.S).group(1)
    action = re.search(r'<form[^>]* action="([^"]+)" hx-post="\1"', block.group(1)).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', block.group(1)))
    return text, action, fields


def undo(world, action, fields):
    client = world["p"].client_for(world["p"].employer)
    return client.post(action, fields, HTTP_HX_REQUEST="true")


def test_an_uprate_confirms_what_changed_and_undoes_in_one_click(world):
    response = post_as(
        world,
        "employer",
        "fop_capability_change",
        world["fop"].pk,
        world["caps"][0].pk,
        data={"proficiency": 3},
        htmx=True,
    )
    text, action, fields = undo_of(response.content.decode())
    assert text == "C01 proficiency saved. Expert in “Validation Engineer” (it was Practitioner)."
    assert proficiency(world) == 3
    response = undo(world, action, fields)
    assert "C01 proficiency saved. Practitioner in “Validation Engineer” (it was Expert)." in response.content.decode()
    assert proficiency(world) == 2
    history = list(world["fop"].history.order_by("id").values_list("action", "reason"))
    assert history[-2:] == [("uprate", ""), ("downrate", "Undo")] and fop_history_verify(fop=world["fop"]).ok


def test_an_add_confirms_and_its_undo_removes_the_capability(world):
    cap = world["caps"][3]
    response = post_as(
        world,
        "employer",
        "fop_capability_add",
        world["fop"].pk,
        data={"capability": cap.pk, "proficiency": 1},
        htmx=True,
    )
    text, action, fields = undo_of(response.content.decode())
    assert text == "C04 added to “Validation Engineer” at Awareness."
    assert fields["action"] == "remove"
    undo(world, action, fields)
    assert not FOPCapability.objects.filter(fop=world["fop"], capability=cap).exists()


def test_a_remove_asks_first_then_confirms_and_its_undo_restores_the_proficiency(world):
    html = world["p"].client_for(world["p"].employer).get(page_urls(world)["detail"]).content.decode()
    # Only the destructive act asks first; the select and the Add button act at once (and can be undone).
    assert 'hx-confirm="Remove C01 (Practitioner) from “Validation Engineer”?"' in html
    assert html.count("hx-confirm=") == len(world["fop"].entries.all())
    FOPCapability.objects.filter(fop=world["fop"], capability=world["caps"][0]).update(proficiency=3)
    response = post_as(
        world,
        "employer",
        "fop_capability_change",
        world["fop"].pk,
        world["caps"][0].pk,
        data={"action": "remove"},
        htmx=True,
    )
    text, action, fields = undo_of(response.content.decode())
    assert text == "C01 removed from “Validation Engineer” (it was Expert)."
    assert not FOPCapability.objects.filter(fop=world["fop"], capability=world["caps"][0]).exists()
    undo(world, action, fields)
    assert proficiency(world) == 3


def test_without_htmx_the_confirmation_is_a_message_on_the_page(world):
    client = world["p"].client_for(world["p"].employer)
    url = reverse("workshops:fop_capability_change", args=[world["p"].cycle.slug, world["fop"].pk, world["caps"][0].pk])
    html = client.post(url, {"proficiency": 1}, follow=True).content.decode()
    assert (
        "C01 proficiency saved. Awareness in “Validation Engineer” (it was Practitioner)." in html
        and 'id="fop-done"' not in html
    )


def test_a_refused_change_shows_no_confirmation(world):
    response = post_as(
        world,
        "employer",
        "fop_capability_add",
        world["fop"].pk,
        data={"capability": world["caps"][0].pk},
        htmx=True,
    )
    assert 'id="fop-done"' not in response.content.decode()


def test_the_confirmation_names_the_fop_by_its_label(world):
    FOP.objects.filter(pk=world["other"].pk).update(name="Validation Engineer", role_level=world["levels"][1])
    response = post_as(
        world,
        "employer",
        "fop_capability_change",
        world["fop"].pk,
        world["caps"][0].pk,
        data={"proficiency": 3},
        htmx=True,
    )
    text, _action, _fields = undo_of(response.content.decode())
    assert (
        text
        == "C01 proficiency saved. Expert in “Validation Engineer — Professional &amp; Delivery” (it was Practitioner)."
    )

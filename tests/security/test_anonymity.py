"""Votes are anonymous: no page, download, JSON endpoint or websocket message shows anyone but the
convener who answered what; counts split by stakeholder group are suppressed below 3 answers.

Every vote carries a unique marker rationale naming its author (``ANON-<vote>-<who>``) so a leak is
easy to see. Rationales *are* shown to panellists in later rounds (anonymously, as Delphi feedback),
so the rule checked is: wherever another panellist's marker appears, that panellist's name or email
does not appear near it. The crawl covers every GET in the permission matrix for each persona,
CSV/XLSX contents included, and the round's websocket messages.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from accounts.models import Organisation, OrganisationGroup, User
from config.asgi import application
from cycles.models import Membership
from tests.security.matrix import OK, ROWS
from tests.security.test_permission_matrix import url_names, world  # noqa: F401 - the fixture
from workshops.delphi.aggregation import round_aggregate
from workshops.delphi.selectors import GROUP_MIN_ANSWERS
from workshops.models import DelphiPlan, Round, Vote

VIEWERS = ("technologist", "employer", "educator", "observer", "outsider", "anonymous")
NEAR = 400  # characters: a name this close to a marker would attribute it


@pytest.fixture
def panel(world, personas):  # noqa: F811
    """Round 1 answered by 3 technology, 1 industry and 1 skills panellist, with marker rationales."""
    cycle = personas.cycle
    DelphiPlan.objects.filter(cycle=cycle).update(voting_roles=["technologist", "employer", "educator"])
    tech_org = Organisation.objects.create(name="Tech Org", group=OrganisationGroup.TECHNOLOGY)
    skills_org = Organisation.objects.create(name="Skills Org", group=OrganisationGroup.SKILLS)
    industry_org = Organisation.objects.create(name="Industry Org", group=OrganisationGroup.INDUSTRY)
    extra = []
    for n in range(2):
        user = User.objects.create_user(
            f"tech{n}@a.test", "x-" * 8, display_name=f"Extra Tech {n}", organisation=tech_org
        )
        Membership.objects.create(cycle=cycle, user=user, role="technologist")
        extra.append(user)
    User.objects.filter(pk=personas.technologist.pk).update(organisation=tech_org)
    User.objects.filter(pk=personas.employer.pk).update(organisation=industry_org)
    User.objects.filter(pk=personas.educator.pk).update(organisation=skills_org)
    round1 = Round.objects.get(cycle=cycle, number=1)
    round2 = Round.objects.get(cycle=cycle, number=2)
    Vote.objects.filter(round__cycle=cycle).delete()
    voters = [personas.technologist, *extra, personas.employer, personas.educator]
    items = list(round1.items.order_by("pk"))
    for v, person in enumerate(voters):
        for i, item in enumerate(items):
            vote = Vote.objects.create(round=round1, item=item, panellist=person, value=(v + i) % 4)
            vote.rationale = f"ANON-{vote.pk}-{person.pk}"
            vote.save()
    round_aggregate(round_id=round1.pk)
    Vote.objects.create(round=round2, item=round2.items.first(), panellist=personas.employer, value=3,
                        rationale=f"ANON-R2-{personas.employer.pk}")  # fmt: skip
    return {"voters": voters, "round1": round1, "round2": round2}


def _text(response) -> str:
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if content[:2] == b"PK":  # XLSX / zip: search inside every member
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    text = content.decode("utf-8", "replace")
    return re.sub(r"<[^>]+>", " ", text)


def _leaks(text: str, viewer, voters) -> list[str]:
    found = []
    for match in re.finditer(r"ANON-(?:\d+|R2)-(\d+)", text):
        author = next((v for v in voters if v.pk == int(match.group(1))), None)
        if author is None or (viewer is not None and author.pk == viewer.pk):
            continue
        window = text[max(0, match.start() - NEAR) : match.end() + NEAR]
        for identity in (author.email, author.display_name):
            if identity and identity in window:
                found.append(f"{match.group(0)} beside {identity!r}")
    return found


def _client(personas, role):
    client = Client()
    user = None if role == "anonymous" else personas.outsider if role == "outsider" else getattr(personas, role)
    if user is not None:
        client.force_login(user)
    return client, user


def test_no_page_download_or_api_ties_an_answer_to_its_author(world, personas, panel):  # noqa: F811
    problems, pages = [], 0
    for role in VIEWERS:
        client, viewer = _client(personas, role)
        matrix_role = role
        for name in url_names():
            row = ROWS.get(name)
            if row is None or row.get is None or row.get.get(matrix_role) != OK:
                continue
            response = client.get(reverse(name, kwargs=row.kwargs(world)))
            if response.status_code != 200:
                continue
            pages += 1
            problems += [f"{role} {name}: {leak}" for leak in _leaks(_text(response), viewer, panel["voters"])]
    assert problems == [], problems[:20]
    assert pages > 100


def test_panellists_see_the_previous_rounds_rationales_without_names(world, personas, panel):  # noqa: F811
    client, viewer = _client(personas, "technologist")
    text = _text(client.get(reverse("workshops:delphi_round", args=[world.slug, 2])))
    others = re.findall(r"ANON-\d+-(\d+)", text)
    assert others, "round 2 should show round 1's rationales as feedback"
    assert any(int(pk) != viewer.pk for pk in others)


def test_counts_split_by_stakeholder_group_are_shown_only_from_three_answers(world, personas, panel):  # noqa: F811
    client, _ = _client(personas, "technologist")
    html = client.get(reverse("workshops:delphi_round", args=[world.slug, 2])).content.decode()
    assert GROUP_MIN_ANSWERS == 3
    assert not re.search(r"Industry:\s*\d", html), "1 industry answer: suppressed"
    assert not re.search(r"Skills:\s*\d", html), "1 skills answer: suppressed"
    # The 3 technology answers are hidden too: shown, the item's counts minus theirs would be the
    # other two panellists' answers.
    assert not re.search(r"Technology:\s*\d+/\d+/\d+/\d+", html), "the split would give the other two away"


@pytest.mark.django_db(transaction=True)
async def test_round_messages_never_carry_another_panellists_answer_or_identity(world, personas, panel):  # noqa: F811
    from workshops.delphi.services import vote_cast

    cookie = await database_sync_to_async(lambda: _session(personas.technologist))()
    ws = WebsocketCommunicator(
        application,
        f"/ws/rounds/{panel['round2'].pk}/",
        headers=[
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ],
    )
    connected, _ = await ws.connect(timeout=5)
    assert connected
    messages = [await ws.receive_json_from(timeout=5)]
    item = await database_sync_to_async(lambda: panel["round2"].items.order_by("pk").last().pk)()
    await database_sync_to_async(vote_cast)(
        round_id=panel["round2"].pk,
        panellist=personas.educator,
        item_id=item,
        value=2,
        rationale="ANON-R2-x",
        client_id="e1",
    )
    while not await ws.receive_nothing(timeout=1.5):
        messages.append(await ws.receive_json_from())
    await ws.disconnect()
    snapshot = messages[0]
    assert snapshot["type"] == "snapshot"
    mine_items = await database_sync_to_async(
        lambda: {
            str(i)
            for i in Vote.objects.filter(round=panel["round2"], panellist=personas.technologist).values_list(
                "item_id", flat=True
            )
        }
    )()
    assert set(snapshot["mine"]) == mine_items  # only the viewer's own answers
    text = json.dumps(messages)
    others = [personas.employer, personas.educator, *panel["voters"][1:3]]
    for person in others:
        assert person.email not in text and (person.display_name or "@@") not in text
    assert "ANON-R2" not in text and '"panellist"' not in text and '"user' not in text


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


# --- Small numbers: no distribution of fewer than 3 answers reaches a panellist -------------------


@pytest.fixture
def two_answers(personas):
    """A live round whose one item got two identical answers, closed, aggregated and revealed.

    The plan lets 1 answer reach consensus, so the item's value alone would tell each of the two
    panellists what the other answered."""
    from tests.workshops.delphi.factories import start_delphi
    from workshops.delphi.services import round_close, round_reveal, vote_cast

    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, live=True, min_responses=1)
    [item] = delphi.items
    for n, person in enumerate((personas.technologist, personas.employer)):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=item.pk, value=2, client_id=f"two-{n}")
    round_close(round_id=delphi.round.pk, actor=personas.convener)
    round_aggregate(round_id=delphi.round.pk)
    round_reveal(round_id=delphi.round.pk, actor=personas.convener, revealed=True)
    return delphi


async def _snapshot(user, round_id) -> dict:
    cookie = await database_sync_to_async(lambda: _session(user))()
    ws = WebsocketCommunicator(
        application,
        f"/ws/rounds/{round_id}/",
        headers=[
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ],
    )
    connected, _ = await ws.connect(timeout=5)
    assert connected
    snapshot = await ws.receive_json_from(timeout=5)
    await ws.disconnect()
    return snapshot


@pytest.mark.django_db(transaction=True)
async def test_after_close_two_answers_show_no_distribution_in_a_panellists_snapshot(personas, two_answers):
    item = str(two_answers.items[0].pk)
    for panellist in (personas.technologist, personas.employer):
        snapshot = await _snapshot(panellist, two_answers.round.pk)
        assert snapshot["status"] == "closed" and snapshot["revealed"] is True
        assert snapshot["distributions"] == {}, panellist.email
        assert snapshot["progress"]["answers"][item] == 2  # how many answered is not a distribution
    convener = await _snapshot(personas.convener, two_answers.round.pk)
    assert convener["distributions"] == {item: [0, 0, 2, 0]}


def _results(user, slug):
    client = Client()
    client.force_login(user)
    page = client.get(reverse("workshops:delphi_results", args=[slug])).content.decode()
    csv_text = client.get(reverse("workshops:delphi_results_csv", args=[slug])).content.decode()
    return re.sub(r"<[^>]+>", " ", page), list(csv.DictReader(io.StringIO(csv_text)))


def test_after_close_two_answers_show_no_distribution_on_a_panellists_results_page_or_csv(personas, two_answers):
    slug = personas.cycle.slug
    for panellist in (personas.technologist, personas.employer):
        page, [row] = _results(panellist, slug)
        assert "Practitioner" not in page and "100 %" not in page, panellist.email
        assert "fewer than 3 answers" in page
        assert (row["proficiency"], row["proficiency_label"], row["median"], row["iqr"], row["agreement"]) == (
            ("", "", "", "", "")
        )
        assert row["n"] == "2"
    page, [row] = _results(personas.convener, slug)
    assert "Practitioner" in page and "100 %" in page
    assert (row["proficiency"], row["median"], row["agreement"]) == ("2", "2.0", "1.0")


def test_live_distributions_reach_panellists_only_from_three_answers(personas):
    from tests.workshops.delphi.factories import add_panellists, start_delphi
    from workshops.delphi.selectors import public_quorum, round_access, round_snapshot
    from workshops.delphi.services import vote_cast

    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, live=True, live_quorum=1)
    assert public_quorum(delphi.plan) == GROUP_MIN_ANSWERS == 3
    [item] = delphi.items
    voters = [personas.technologist, personas.employer, *add_panellists(personas.cycle, 1)]
    seen = []
    for n, person in enumerate(voters):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=item.pk, value=n % 4, client_id=f"l{n}")
        view = round_access(user=personas.technologist, round_id=delphi.round.pk)
        seen.append(round_snapshot(view=view, user=personas.technologist)["distributions"])
    assert seen == [{}, {}, {str(item.pk): [1, 1, 1, 0]}]

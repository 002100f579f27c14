"""Changing items between rounds, on the record: reword, split, merge, drop and add, each with a
reason; panellists see the change; results follow each item's lineage (workshops/delphi/lineage.py)."""

import pytest
from django.urls import reverse
from scipy import stats

from cycles.models import AuditEvent
from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi import changes
from workshops.delphi.appendix import methods_appendix
from workshops.delphi.lineage import change_log, paired_items
from workshops.delphi.selectors import convergence, get_round_for_member, round_grid
from workshops.delphi.services import DelphiError, round_close, round_open, round_proposed_item_ids, vote_cast
from workshops.models import DelphiItem, ItemChange, ItemResult

# Six panellists; round 1 answers per item (no consensus anywhere, so every item is carried).
ROUND1 = [0, 1, 2, 3, 1, 2]


@pytest.fixture
def between_rounds(personas, django_capture_on_commit_callbacks):
    people = add_panellists(personas.cycle, 6)
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=3, levels=2, max_rounds=3)

    def close(rnd):
        with django_capture_on_commit_callbacks(execute=True):
            round_close(round_id=rnd.pk, actor=personas.convener)

    for item in delphi.items:
        for person, value in zip(people, ROUND1, strict=True):
            vote_cast(round_id=delphi.round.pk, panellist=person, item_id=item.pk, value=value)
    close(delphi.round)
    return {"delphi": delphi, "people": people, "close": close, "items": delphi.items}


def _reword(personas, item, wording="Operate capability one safely, including its calibration.", reason="Clearer"):
    return changes.item_reword(
        cycle=personas.cycle, actor=personas.convener, item_id=item.pk, wording=wording, reason=reason
    )


@pytest.mark.django_db
def test_a_reword_replaces_the_item_with_a_new_wording_and_records_why(personas, between_rounds):
    item = between_rounds["items"][0]
    change = _reword(personas, item)
    new = change.results.get()
    item.refresh_from_db()
    assert item.outcome == DelphiItem.Outcome.REPLACED
    assert new.wording.startswith("Operate capability one safely, including")
    assert (new.capability_id, new.role_level_id) == (item.capability_id, item.role_level_id)
    assert change.before == [item.capability.statement] and change.reason == "Clearer"
    proposed = round_proposed_item_ids(cycle=personas.cycle)
    assert new.pk in proposed and item.pk not in proposed
    event = AuditEvent.objects.get(verb="delphi.item_reword")
    assert event.detail["reason"] == "Clearer" and event.detail["sources"] == [item.pk]


@pytest.mark.django_db
def test_every_change_needs_a_reason_and_a_refused_change_changes_nothing(personas, between_rounds):
    item = between_rounds["items"][0]
    for call in (
        lambda: _reword(personas, item, reason="   "),
        lambda: _reword(personas, item, wording=item.capability.statement),
        lambda: changes.item_split(
            cycle=personas.cycle, actor=personas.convener, item_id=item.pk, wordings=["Only one"], reason="x"
        ),  # fmt: skip
        lambda: changes.items_merge(
            cycle=personas.cycle, actor=personas.convener, item_ids=[item.pk], wording="w", reason="x"
        ),  # fmt: skip
        # Items at different role levels cannot merge.
        lambda: changes.items_merge(
            cycle=personas.cycle,
            actor=personas.convener,
            item_ids=[i.pk for i in between_rounds["items"][:2]],
            wording="w",
            reason="x",
        ),  # fmt: skip
    ):
        with pytest.raises(DelphiError):
            call()
    assert ItemChange.objects.count() == 0
    assert DelphiItem.objects.filter(cycle=personas.cycle).exclude(wording="").count() == 0
    item.refresh_from_db()
    assert item.outcome == ""


@pytest.mark.django_db
def test_items_change_only_between_rounds_and_only_by_the_convener(personas, between_rounds):
    item = between_rounds["items"][0]
    round_open(cycle=personas.cycle, actor=personas.convener)
    with pytest.raises(DelphiError) as refused:
        _reword(personas, item)
    assert refused.value.message == changes.CHANGE_NOT_NOW
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        changes.item_drop(cycle=personas.cycle, actor=personas.technologist, item_id=item.pk, reason="no")


@pytest.mark.django_db
def test_lineage_follows_a_reword_a_split_and_a_merge_and_panellists_see_each_change(personas, between_rounds):
    a, a2, b, b2, c, c2 = between_rounds["items"]  # C01 L1, C01 L2, C02 L1, C02 L2, C03 L1, C03 L2
    reworded = _reword(personas, a).results.get()
    split = changes.item_split(
        cycle=personas.cycle, actor=personas.convener, item_id=b.pk,
        wordings=["Plan the maintenance of capability two.", "Carry out the maintenance of capability two."],
        reason="Two skills in one statement",
    ).results.all()  # fmt: skip
    merged = changes.items_merge(
        cycle=personas.cycle, actor=personas.convener, item_ids=[a2.pk, c2.pk], wording="One statement for both.",
        reason="They asked the same thing",
    ).results.get()  # fmt: skip
    changes.item_drop(cycle=personas.cycle, actor=personas.convener, item_id=c.pk, reason="Out of scope")
    second = round_open(cycle=personas.cycle, actor=personas.convener)
    asked = set(second.items.values_list("pk", flat=True))
    assert asked == {reworded.pk, *[s.pk for s in split], merged.pk, b2.pk}

    # Paired with the predecessor: the reworded item and each part of the split; the merge starts afresh.
    previous = between_rounds["delphi"].round
    pairs = paired_items(cycle_id=personas.cycle.pk, item_ids=asked, previous=previous)
    assert pairs == {reworded.pk: a.pk, split[0].pk: b.pk, split[1].pk: b.pk, b2.pk: b2.pk}

    # A panellist sees what changed, with the old wording, and the previous round's feedback of the predecessor.
    person = between_rounds["people"][0]
    view = get_round_for_member(_request(person), personas.cycle.slug, second.number)
    cells = {
        cell["item"].pk: cell for row in round_grid(view=view, user=person)["rows"] for cell in row["cells"] if cell
    }
    assert cells[reworded.pk]["change"]["label"] == "Reworded since round 1"
    assert cells[reworded.pk]["change"]["before"] == [a.capability.statement]
    assert cells[reworded.pk]["feedback"]["mine"] == ROUND1[0]
    assert cells[split[0].pk]["change"]["label"] == "Split since round 1"
    assert cells[merged.pk]["change"]["label"] == "Merged since round 1"
    assert cells[merged.pk]["feedback"] is None
    assert cells[b2.pk]["change"] is None
    client = personas.client_for(person)
    page = client.get(reverse("workshops:delphi_round", args=[personas.cycle.slug, second.number])).content.decode()
    assert "Reworded since round 1" in page and "Operate capability one safely, including its calibration." in page

    # Round 2: everyone moves up one level on the reworded item; its test pairs it with round 1's item.
    after = [1, 2, 3, 3, 2, 3]
    for p, value in zip(between_rounds["people"], after, strict=True):
        for item_pk in asked:
            vote_cast(round_id=second.pk, panellist=p, item_id=item_pk, value=value)
    between_rounds["close"](second)
    result = ItemResult.objects.get(round=second, item=reworded)
    expected = stats.wilcoxon(after, ROUND1, zero_method="wilcox", method="asymptotic")
    assert result.n_both == 6 and result.wilcoxon_p == pytest.approx(float(expected.pvalue), abs=1e-6)
    assert ItemResult.objects.get(round=second, item=split[1]).n_both == 6
    merged_result = ItemResult.objects.get(round=second, item=merged)
    assert merged_result.n_both == 0 and merged_result.changed_share is None and not merged_result.stable

    # The convergence chart of the reworded item carries round 1's cells (its predecessor's).
    row = next(r for r in convergence(cycle=personas.cycle, is_convener=True)["rows"] if r["item"].pk == reworded.pk)
    assert [c and c["round"] for c in row["cells"]] == [1, 2]
    assert row["changes"][0]["kind"] == "reword"


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.django_db
def test_the_report_and_the_methods_appendix_list_every_change_with_its_reason(personas, between_rounds):
    a, _, b, *_ = between_rounds["items"]
    _reword(personas, a, reason="Panellists read it two ways")
    changes.item_add(
        cycle=personas.cycle, actor=personas.convener, capability_id=b.capability_id, role_level_id=b.role_level_id,
        wording="Audit capability two's records.", reason="Raised in three rationales",
    )  # fmt: skip
    log = change_log(personas.cycle.pk)
    assert [(row["kind"], row["reason"]) for row in log] == [
        ("reword", "Panellists read it two ways"),
        ("add", "Raised in three rationales"),
    ]
    appendix = methods_appendix(cycle=personas.cycle, is_convener=False)
    assert appendix["changes"] == log
    assert appendix["change_counts"]["reword"] == 1 and appendix["change_counts"]["add"] == 1
    # Once round 2 has run, the appendix counts the changes before it and none as left out.
    second = round_open(cycle=personas.cycle, actor=personas.convener)
    between_rounds["close"](second)
    second_round = methods_appendix(cycle=personas.cycle)["rounds"][1]
    assert (second_round["changed"], second_round["left_out"]) == (2, 0)
    client = personas.client_for(personas.technologist)
    for name in ("workshops:delphi_report", "workshops:delphi_appendix", "workshops:delphi_appendix_md"):
        body = client.get(reverse(name, args=[personas.cycle.slug])).content.decode()
        assert "Panellists read it two ways" in body and "Raised in three rationales" in body, name
        assert "1 was reworded, split or merged into new items" in body, name


@pytest.mark.django_db
def test_the_changes_page_records_a_change_and_re_renders_a_refused_one(personas, between_rounds):
    item = between_rounds["items"][0]
    url = reverse("workshops:delphi_item_changes", args=[personas.cycle.slug])
    client = personas.client_for(personas.convener)
    assert client.get(url).status_code == 200
    refused = client.post(url, {"kind": "reword", "items": [item.pk], "wording": "New words", "reason": ""})
    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()
    refused = client.post(url, {"kind": "split", "items": [item.pk], "wording": "Only one part", "reason": "why"})
    assert changes.CHANGE_SPLIT_PARTS in refused.content.decode()
    assert ItemChange.objects.count() == 0
    done = client.post(url, {"kind": "drop", "items": [item.pk], "reason": "Duplicate of C02"})
    assert done.status_code == 302
    assert ItemChange.objects.get().kind == "drop"
    assert "Duplicate of C02" in client.get(url).content.decode()
    # Only the convener reaches the page.
    assert personas.client_for(personas.technologist).post(url, {"kind": "drop", "items": [item.pk], "reason": "x"}).status_code == 403  # fmt: skip
    assert ItemChange.objects.count() == 1


@pytest.mark.django_db
def test_a_change_no_round_has_asked_can_be_undone_and_the_audit_keeps_it(personas, between_rounds):
    a, a2, b, b2, *_ = between_rounds["items"]
    merged = changes.items_merge(
        cycle=personas.cycle, actor=personas.convener, item_ids=[a2.pk, b2.pk], wording="Both at once.", reason="Same"
    )
    new = merged.results.get()
    url = reverse("workshops:delphi_item_changes", args=[personas.cycle.slug])
    client = personas.client_for(personas.convener)
    assert f'name="undo" value="{merged.pk}"' in client.get(url).content.decode()
    assert client.post(url, {"undo": merged.pk}).status_code == 302
    assert not ItemChange.objects.exists() and not DelphiItem.objects.filter(pk=new.pk).exists()
    assert {a2.pk, b2.pk} <= set(round_proposed_item_ids(cycle=personas.cycle))
    assert DelphiItem.objects.get(pk=a2.pk).outcome == ""
    assert AuditEvent.objects.get(verb="delphi.item_change_undone").detail["reason"] == "Same"
    # Once the next round has asked a change, it is on the record for good.
    kept = _reword(personas, a)
    round_open(cycle=personas.cycle, actor=personas.convener)
    with pytest.raises(DelphiError):
        changes.item_change_undo(cycle=personas.cycle, actor=personas.convener, change_id=kept.pk)
    assert ItemChange.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_the_parts_of_a_split_item_give_the_fop_proposal_the_higher_consensus(personas, between_rounds):
    from workshops.fops.selectors import consensus_for, fop_proposal_inputs

    b = between_rounds["items"][2]  # C02 at the first level
    parts = list(
        changes.item_split(
            cycle=personas.cycle, actor=personas.convener, item_id=b.pk,
            wordings=["Plan the maintenance of capability two.", "Carry out the maintenance of capability two."],
            reason="Two skills in one statement",
        ).results.order_by("pk")
    )  # fmt: skip
    second = round_open(cycle=personas.cycle, actor=personas.convener)
    for person in between_rounds["people"]:
        vote_cast(round_id=second.pk, panellist=person, item_id=parts[0].pk, value=3)
        vote_cast(round_id=second.pk, panellist=person, item_id=parts[1].pk, value=1)
    between_rounds["close"](second)
    assert sorted(
        DelphiItem.objects.filter(pk__in=[p.pk for p in parts]).values_list("consensus_value", flat=True)
    ) == [1, 3]

    level = next(n for n in fop_proposal_inputs(cycle=personas.cycle) if n.role_level_id == b.role_level_id)
    needed = [c for c in level.capabilities if c.id == b.capability_id]
    assert [c.proficiency for c in needed] == [3], "one entry for the capability, at the higher of its parts"
    assert consensus_for(cycle=personas.cycle, role_level_id=b.role_level_id)[b.capability_id] == 3

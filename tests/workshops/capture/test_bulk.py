"""Bulk review of captured statements: all or nothing, audited once, undone exactly (issue 13, item 12)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cycles.models import AuditEvent
from tests.factories import SupplyChainPartnerFactory
from tests.workshops.capture.factories import CapabilityFactory, FunctionalAreaFactory
from workshops.capture import bulk, services
from workshops.models import Capability

pytestmark = pytest.mark.django_db
Status = Capability.Status


def _statements(cycle, n=3, **kwargs):
    return [CapabilityFactory(cycle=cycle, ref=f"C{i + 1:02d}", **kwargs) for i in range(n)]


def _state(capabilities):
    rows = Capability.objects.filter(pk__in=[c.pk for c in capabilities]).prefetch_related("partners").order_by("id")
    return [
        (c.status, c.rejection_reason, c.function_id, c.domain_id, c.area_id, sorted(p.pk for p in c.partners.all()))
        for c in rows
    ]


def test_accepting_many_statements_is_one_transaction_audited_once_with_the_count(personas):
    rows = _statements(personas.cycle, 3)
    result = bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=rows)
    assert result.count == 3 and result.message == "3 statements accepted."
    assert set(Capability.objects.values_list("status", flat=True)) == {Status.ACCEPTED}
    [event] = AuditEvent.objects.filter(cycle=personas.cycle, verb=bulk.BULK_VERB)
    assert event.detail["count"] == 3 and event.detail["refs"] == ["C01", "C02", "C03"]
    assert event.summary == "Bulk: 3 statements accepted."


def test_a_merged_statement_refuses_the_whole_action_naming_it_and_nothing_changes(personas):
    rows = _statements(personas.cycle, 3)
    services.capability_merge(survivor=rows[0], sources=[rows[2]], actor=personas.convener)
    before = _state(rows)
    with pytest.raises(ValidationError) as refused:
        bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=rows)
    assert refused.value.messages == [bulk.MERGED.format(refs="C03", was="was")]
    assert "C03 was merged" in refused.value.messages[0]
    assert _state(rows) == before
    assert not AuditEvent.objects.filter(verb=bulk.BULK_VERB).exists()


def test_rejecting_in_bulk_takes_one_reason_and_refuses_statements_already_rejected(personas):
    rows = _statements(personas.cycle, 3)
    with pytest.raises(ValidationError):
        bulk.capabilities_bulk_reject(cycle=personas.cycle, actor=personas.convener, capabilities=rows, reason="  ")
    services.capability_reject(capability=rows[1], actor=personas.convener, reason="Vague")
    services.capability_reject(capability=rows[2], actor=personas.convener, reason="Vague")
    with pytest.raises(ValidationError) as refused:
        bulk.capabilities_bulk_reject(cycle=personas.cycle, actor=personas.convener, capabilities=rows, reason="Dup")
    assert refused.value.messages == ["Nothing was changed: C02 and C03 were already rejected."]
    assert Capability.objects.get(pk=rows[0].pk).status == Status.SUBMITTED

    result = bulk.capabilities_bulk_reject(
        cycle=personas.cycle, actor=personas.convener, capabilities=rows[:1], reason="Out of scope"
    )
    assert result.message == "1 statement rejected: Out of scope"
    assert Capability.objects.get(pk=rows[0].pk).rejection_reason == "Out of scope"


def test_classifying_in_bulk_fills_in_the_parents_of_the_area(personas):
    rows = _statements(personas.cycle, 2)
    area = FunctionalAreaFactory(name="Develop Processes")
    result = bulk.capabilities_bulk_classify(
        cycle=personas.cycle, actor=personas.convener, capabilities=rows, area=area
    )
    assert {(c.function_id, c.domain_id, c.area_id) for c in Capability.objects.all()} == {
        (area.domain.function_id, area.domain_id, area.pk)
    }
    assert result.message.endswith(
        f"classified as {area.domain.function.name} › {area.domain.name} › Develop Processes."
    )
    with pytest.raises(ValidationError):
        bulk.capabilities_bulk_classify(cycle=personas.cycle, actor=personas.convener, capabilities=rows)


def test_partners_are_added_to_each_statement_or_replace_its_own(personas):
    rows = _statements(personas.cycle, 2)
    nhs, logistics = (SupplyChainPartnerFactory(cycle=personas.cycle, name=n) for n in ("NHS workforce", "Logistics"))
    rows[0].partners.set([logistics])
    bulk.capabilities_bulk_assign_partners(
        cycle=personas.cycle, actor=personas.convener, capabilities=rows, partners=[nhs]
    )
    assert _state(rows)[0][5] == sorted([nhs.pk, logistics.pk]) and _state(rows)[1][5] == [nhs.pk]
    bulk.capabilities_bulk_assign_partners(
        cycle=personas.cycle, actor=personas.convener, capabilities=rows, partners=[logistics], replace=True
    )
    assert [state[5] for state in _state(rows)] == [[logistics.pk], [logistics.pk]]
    other = SupplyChainPartnerFactory(cycle=personas.other_cycle, name="Elsewhere")
    with pytest.raises(ValidationError):
        bulk.capabilities_bulk_assign_partners(
            cycle=personas.cycle, actor=personas.convener, capabilities=rows, partners=[other]
        )


def test_statements_of_another_cycle_are_refused(personas):
    mine = _statements(personas.cycle, 1)
    theirs = CapabilityFactory(cycle=personas.other_cycle, ref="C09")
    with pytest.raises(ValidationError) as refused:
        bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=[*mine, theirs])
    assert "1 of the selected statements are not part of this cycle" in refused.value.messages[0]
    assert Capability.objects.get(pk=theirs.pk).status == Status.SUBMITTED
    with pytest.raises(ValidationError, match="Select at least one"):
        bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=[])


def test_undo_puts_back_exactly_the_statements_of_that_bulk_action(personas):
    rows = _statements(personas.cycle, 3)
    nhs = SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    area = FunctionalAreaFactory()
    services.capability_reject(capability=rows[2], actor=personas.convener, reason="Vague")
    bulk.capabilities_bulk_classify(cycle=personas.cycle, actor=personas.convener, capabilities=rows[:1], area=area)
    before = _state(rows)
    tagged = bulk.capabilities_bulk_assign_partners(
        cycle=personas.cycle, actor=personas.convener, capabilities=rows, partners=[nhs]
    )
    accepted = bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=rows)

    undone = bulk.capabilities_bulk_undo(cycle=personas.cycle, actor=personas.convener, event_id=accepted.event.pk)
    assert undone.message.startswith("Undone: 3 statements are back as they were before “3 statements accepted.”")
    after_undo = _state(rows)
    assert [s[:2] for s in after_undo] == [(Status.SUBMITTED, ""), (Status.SUBMITTED, ""), (Status.REJECTED, "Vague")]
    assert all(s[5] == [nhs.pk] for s in after_undo)  # the earlier partner action stays
    bulk.capabilities_bulk_undo(cycle=personas.cycle, actor=personas.convener, event_id=tagged.event.pk)
    assert _state(rows) == before
    assert AuditEvent.objects.filter(verb=bulk.UNDO_VERB).count() == 2


def test_undo_is_refused_when_a_statement_changed_since_and_then_changes_nothing(personas):
    rows = _statements(personas.cycle, 3)
    result = bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=rows)
    edited = Capability.objects.get(pk=rows[1].pk)
    services.capability_update(
        capability=edited, actor=personas.convener, statement="Develop a reworded statement here.", partners=[]
    )
    state = _state(rows)
    with pytest.raises(ValidationError) as refused:
        bulk.capabilities_bulk_undo(cycle=personas.cycle, actor=personas.convener, event_id=result.event.pk)
    assert refused.value.messages == ["Not undone: C02 has changed since that bulk action, so nothing was put back."]
    assert _state(rows) == state


def test_a_bulk_action_is_undone_once_and_only_in_its_cycle(personas):
    rows = _statements(personas.cycle, 2)
    result = bulk.capabilities_bulk_accept(cycle=personas.cycle, actor=personas.convener, capabilities=rows)
    with pytest.raises(ValidationError, match="no such bulk action"):
        bulk.capabilities_bulk_undo(cycle=personas.other_cycle, actor=None, event_id=result.event.pk)
    bulk.capabilities_bulk_undo(cycle=personas.cycle, actor=personas.convener, event_id=result.event.pk)
    with pytest.raises(ValidationError, match="undone already"):
        bulk.capabilities_bulk_undo(cycle=personas.cycle, actor=personas.convener, event_id=result.event.pk)


# --- the review screen ----------------------------------------------------------------------------


def capture_url():
    return reverse("workshops:capture", args=["cycle-a"])


def bulk_url(name="capabilities_bulk"):
    return reverse(f"workshops:{name}", args=["cycle-a"])


def test_the_convener_gets_a_checkbox_per_statement_and_the_toolbar_others_do_not(personas):
    rows = _statements(personas.cycle, 2)
    SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    body = personas.client_for(personas.convener).get(capture_url()).content.decode()
    assert 'id="capture-bulk"' in body and "Select all shown" in body
    for c in rows:
        assert f'name="ids" value="{c.pk}" form="capture-bulk"' in body
    assert 'name="partners"' in body and "Apply suggested classification" in body
    for role in ("technologist", "observer"):
        page = personas.client_for(getattr(personas, role)).get(capture_url()).content.decode()
        assert 'id="capture-bulk"' not in page and 'name="ids"' not in page


def test_a_bulk_action_from_the_page_is_followed_by_an_undo_button_that_reverts_it(personas):
    rows = _statements(personas.cycle, 3)
    client = personas.client_for(personas.convener)
    ids = [c.pk for c in rows[:2]]
    response = client.post(bulk_url(), {"action": "accept", "ids": ids, "next": f"{capture_url()}?status=all"})
    assert response.status_code == 302 and response["Location"] == f"{capture_url()}?status=all"
    page = client.get(response["Location"]).content.decode()
    assert "2 statements accepted." in page and 'id="bulk-undo"' in page
    event = AuditEvent.objects.get(verb=bulk.BULK_VERB)
    assert f'name="event" value="{event.pk}"' in page
    assert 'id="bulk-undo"' not in client.get(capture_url()).content.decode()  # shown once, like a message

    page = client.post(bulk_url("capabilities_bulk_undo"), {"event": event.pk}, follow=True).content.decode()
    assert "Undone: 2 statements are back" in page
    assert set(Capability.objects.values_list("status", flat=True)) == {Status.SUBMITTED}


def test_a_refused_bulk_action_says_why_on_the_page_and_changes_nothing(personas):
    rows = _statements(personas.cycle, 2)
    client = personas.client_for(personas.convener)
    page = client.post(bulk_url(), {"action": "reject", "ids": [c.pk for c in rows], "reason": ""}, follow=True)
    assert "say why the statements are rejected" in page.content.decode()
    page = client.post(bulk_url(), {"action": "accept"}, follow=True)
    assert "Select at least one statement first." in page.content.decode()
    assert not Capability.objects.exclude(status=Status.SUBMITTED).exists()


def test_the_page_posts_back_only_to_its_own_capture_list(personas):
    rows = _statements(personas.cycle, 1)
    client = personas.client_for(personas.convener)
    for target in ("https://evil.test/", "//evil.test/cycles/cycle-a/capture/", "/cycles/cycle-b/capture/"):
        response = client.post(bulk_url(), {"action": "accept", "ids": [rows[0].pk], "next": target})
        assert response["Location"] == capture_url()


def test_classify_and_partners_from_the_toolbar(personas):
    rows = _statements(personas.cycle, 2)
    nhs = SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    area = FunctionalAreaFactory(name="Maintain Cold Chain")
    client = personas.client_for(personas.convener)
    page = client.get(capture_url()).content.decode()
    assert f'<option value="area:{area.pk}">{area.domain.name} › Maintain Cold Chain</option>' in page
    ids = [c.pk for c in rows]
    client.post(bulk_url(), {"action": "classify", "ids": ids, "classification": f"area:{area.pk}"})
    client.post(bulk_url(), {"action": "partners", "ids": ids, "partners": [nhs.pk], "partner_mode": "add"})
    assert _state(rows) == [(Status.SUBMITTED, "", area.domain.function_id, area.domain_id, area.pk, [nhs.pk])] * 2


def test_a_post_without_an_action_or_with_a_stale_classification_says_so(personas):
    rows = _statements(personas.cycle, 1)
    client = personas.client_for(personas.convener)
    page = client.post(bulk_url(), {"ids": [rows[0].pk]}, follow=True).content.decode()
    assert "Nothing was changed: choose one of the toolbar&#x27;s actions." in page
    page = client.post(
        bulk_url(), {"action": "classify", "ids": [rows[0].pk], "classification": "area:999"}, follow=True
    )
    assert "that entry is no longer in the taxonomy" in page.content.decode()
    assert Capability.objects.get(pk=rows[0].pk).area_id is None

import pytest
from django.core.exceptions import ValidationError

from cycles.models import AuditEvent
from tests.factories import CycleFactory, RoleLevelFactory, SupplyChainPartnerFactory, WorkshopFactory
from tests.workshops.capture.factories import CapabilityFactory, FunctionalAreaFactory, FunctionalDomainFactory
from workshops.capture import services
from workshops.models import Capability, DelphiItem

pytestmark = pytest.mark.django_db
STATEMENT = "Develop automated fill-finish processes for spoke sites."


def test_submissions_get_the_next_reference_of_their_cycle(personas):
    first = services.capability_submit(cycle=personas.cycle, actor=personas.technologist, statement=STATEMENT)
    second = services.capability_submit(cycle=personas.cycle, actor=personas.technologist, statement=STATEMENT)
    other = services.capability_submit(cycle=personas.other_cycle, actor=personas.outsider, statement=STATEMENT)
    assert (first.ref, second.ref, other.ref) == ("C01", "C02", "C01")
    assert first.status == Capability.Status.SUBMITTED


def test_references_continue_after_the_highest_number_and_go_past_99(personas):
    CapabilityFactory(cycle=personas.cycle, ref="C99")
    CapabilityFactory(cycle=personas.cycle, ref="X-legacy")
    capability = services.capability_submit(cycle=personas.cycle, actor=personas.convener, statement=STATEMENT)
    assert capability.ref == "C100"


def test_a_statement_outside_the_length_limits_is_refused_and_nothing_is_stored(personas):
    for text in ["Develop plans.", "Develop " + "x" * 400]:
        with pytest.raises(ValidationError) as caught:
            services.capability_submit(cycle=personas.cycle, actor=personas.technologist, statement=text)
        assert "statement" in caught.value.error_dict
    assert not Capability.objects.exists()


def test_a_submission_stores_partners_and_fills_in_the_classification_from_the_area(personas):
    partner = SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    area = FunctionalAreaFactory()
    capability = services.capability_submit(
        cycle=personas.cycle, actor=personas.technologist, statement=STATEMENT, partners=[partner], area=area
    )
    assert list(capability.partners.all()) == [partner]
    assert (capability.function, capability.domain, capability.area) == (area.domain.function, area.domain, area)


def test_a_domain_outside_the_chosen_function_is_refused(personas):
    domain = FunctionalDomainFactory()
    other_function = FunctionalDomainFactory().function
    with pytest.raises(ValidationError, match="is not part of the function"):
        services.capability_submit(
            cycle=personas.cycle,
            actor=personas.technologist,
            statement=STATEMENT,
            function=other_function,
            domain=domain,
        )


def test_a_partner_or_workshop_of_another_cycle_is_refused(personas):
    with pytest.raises(ValidationError, match="not a supply-chain partner of this cycle"):
        services.capability_submit(
            cycle=personas.cycle,
            actor=personas.technologist,
            statement=STATEMENT,
            partners=[SupplyChainPartnerFactory(cycle=personas.other_cycle)],
        )
    with pytest.raises(ValidationError, match="workshop is not part of this cycle"):
        services.capability_submit(
            cycle=personas.cycle,
            actor=personas.technologist,
            statement=STATEMENT,
            workshop=WorkshopFactory(cycle=personas.other_cycle),
        )
    assert not Capability.objects.exists()


def test_merging_keeps_the_sources_and_unites_the_partners(personas):
    a, b, c = (SupplyChainPartnerFactory(cycle=personas.cycle) for _ in range(3))
    survivor = CapabilityFactory(cycle=personas.cycle, ref="C01")
    survivor.partners.set([a])
    duplicate = CapabilityFactory(cycle=personas.cycle, ref="C02")
    duplicate.partners.set([b])
    earlier = CapabilityFactory(cycle=personas.cycle, ref="C03")
    earlier.partners.set([c])
    services.capability_merge(survivor=duplicate, sources=[earlier], actor=personas.convener)

    services.capability_merge(survivor=survivor, sources=[duplicate], actor=personas.convener)

    survivor.refresh_from_db()
    assert set(survivor.partners.all()) == {a, b, c}
    assert set(survivor.merged_sources.values_list("ref", flat=True)) == {"C02", "C03"}
    for ref in ["C02", "C03"]:
        merged = Capability.objects.get(ref=ref)
        assert merged.status == Capability.Status.MERGED
        assert merged.merged_into == survivor
        assert merged.statement  # the source keeps its own wording
    assert survivor.statement.startswith("Develop automated process")
    assert AuditEvent.objects.filter(verb="capability.merged", cycle=personas.cycle).count() == 2


def test_merging_across_cycles_is_refused_and_changes_nothing(personas):
    survivor = CapabilityFactory(cycle=personas.cycle)
    foreign = CapabilityFactory(cycle=personas.other_cycle)
    with pytest.raises(ValidationError, match="belongs to another cycle"):
        services.capability_merge(survivor=survivor, sources=[foreign], actor=personas.convener)
    foreign.refresh_from_db()
    assert foreign.status == Capability.Status.SUBMITTED
    assert foreign.merged_into is None


def test_merging_needs_a_source_and_refuses_itself_and_already_merged_statements(personas):
    survivor = CapabilityFactory(cycle=personas.cycle)
    other = CapabilityFactory(cycle=personas.cycle)
    with pytest.raises(ValidationError, match="Choose at least one"):
        services.capability_merge(survivor=survivor, sources=[], actor=personas.convener)
    with pytest.raises(ValidationError, match="into itself"):
        services.capability_merge(survivor=survivor, sources=[survivor], actor=personas.convener)
    services.capability_merge(survivor=survivor, sources=[other], actor=personas.convener)
    third = CapabilityFactory(cycle=personas.cycle)
    other.refresh_from_db()
    with pytest.raises(ValidationError, match="already merged"):
        services.capability_merge(survivor=third, sources=[other], actor=personas.convener)


def test_a_statement_already_in_the_delphi_cannot_be_merged_away(personas):
    survivor = CapabilityFactory(cycle=personas.cycle)
    voted = CapabilityFactory(cycle=personas.cycle)
    DelphiItem.objects.create(cycle=personas.cycle, capability=voted, role_level=RoleLevelFactory(cycle=personas.cycle))
    with pytest.raises(ValidationError, match="already in the Delphi"):
        services.capability_merge(survivor=survivor, sources=[voted], actor=personas.convener)


def test_rejecting_needs_a_reason(personas):
    capability = CapabilityFactory(cycle=personas.cycle)
    with pytest.raises(ValidationError) as caught:
        services.capability_reject(capability=capability, actor=personas.convener, reason="   ")
    assert caught.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    capability.refresh_from_db()
    assert capability.status == Capability.Status.SUBMITTED

    services.capability_reject(capability=capability, actor=personas.convener, reason="Out of scope for this cycle.")
    capability.refresh_from_db()
    assert capability.status == Capability.Status.REJECTED
    assert capability.rejection_reason == "Out of scope for this cycle."


def test_accepting_a_rejected_statement_reinstates_it_but_a_merged_one_cannot_be_accepted(personas):
    capability = CapabilityFactory(cycle=personas.cycle, status=Capability.Status.REJECTED, rejection_reason="Dup")
    services.capability_accept(capability=capability, actor=personas.convener)
    capability.refresh_from_db()
    assert (capability.status, capability.rejection_reason) == (Capability.Status.ACCEPTED, "")
    merged = CapabilityFactory(cycle=personas.cycle, status=Capability.Status.MERGED, merged_into=capability)
    with pytest.raises(ValidationError, match="was merged"):
        services.capability_accept(capability=merged, actor=personas.convener)


def test_editing_rewords_reclassifies_and_records_the_old_wording(personas):
    capability = CapabilityFactory(cycle=personas.cycle)
    old = capability.statement
    domain = FunctionalDomainFactory()
    services.capability_update(
        capability=capability, actor=personas.convener, statement=STATEMENT, partners=[], domain=domain
    )
    capability.refresh_from_db()
    assert capability.statement == STATEMENT
    assert (capability.function, capability.domain) == (domain.function, domain)
    event = AuditEvent.objects.get(verb="capability.edited")
    assert event.detail["before"] == old


def test_cycles_are_independent_for_references():
    one, two = CycleFactory(), CycleFactory()
    assert services.next_ref(one) == services.next_ref(two) == "C01"

import pytest
from django.conf import settings

from cycles import demo as cycles_demo
from workshops import demo
from workshops.models import Capability, Function

pytestmark = pytest.mark.django_db
SLUG = "poc_manufacturing_2025"


@pytest.fixture
def poc_cycle():
    users = cycles_demo.load_users()
    data = cycles_demo.read_seed(settings.SHARED_DATA_DIR, SLUG)
    return cycles_demo.load_cycle(data, cycles_demo.SEED_FILES[SLUG], users)


def _snapshot(cycle):
    return sorted(
        (c.ref, c.statement, c.status, c.highlighted, tuple(sorted(p.name for p in c.partners.all())))
        for c in Capability.objects.filter(cycle=cycle).prefetch_related("partners")
    )


def test_the_demo_loads_the_54_published_capabilities_with_their_partners(poc_cycle):
    demo.load(settings.SHARED_DATA_DIR)
    capabilities = Capability.objects.filter(cycle=poc_cycle)
    assert capabilities.count() == 54
    assert set(capabilities.values_list("status", flat=True)) == {Capability.Status.ACCEPTED}
    assert capabilities.filter(highlighted=True).count() == 19
    c01 = capabilities.get(ref="C01")
    # The seed spells it "Logistics & Supply Chain"; the cycle's partner is matched regardless of case.
    assert [p.name.lower() for p in c01.partners.all()] == ["logistics & supply chain"]
    assert c01.highlight_reason.startswith("The fundamental change of spoke sites")
    assert capabilities.get(ref="C02").published_provision["status"] == "partial"
    assert capabilities.filter(partners__isnull=False).distinct().count() == 40
    assert Function.objects.count() == 5


def test_loading_the_demo_twice_changes_nothing(poc_cycle):
    demo.load(settings.SHARED_DATA_DIR)
    before = _snapshot(poc_cycle)
    demo.load(settings.SHARED_DATA_DIR)
    assert _snapshot(poc_cycle) == before
    assert Capability.objects.count() == 54


def test_without_the_cycle_the_capabilities_are_skipped():
    demo.load(settings.SHARED_DATA_DIR)
    assert not Capability.objects.exists()
    assert Function.objects.count() == 5

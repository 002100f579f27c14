"""The demo gives both published cycles their FOPs, and the point-of-care cycle its tag tables."""

import pytest
from django.conf import settings

from cycles import demo as cycles_demo
from workshops import demo
from workshops.fops.selectors import fop_history_verify
from workshops.models import FOP, FOPCapability, PublishedTagFrequency

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_cycles():
    return cycles_demo.load(settings.SHARED_DATA_DIR)


def test_the_point_of_care_cycle_gets_its_33_published_fops_with_102_proficiencies(demo_cycles):
    demo.load(settings.SHARED_DATA_DIR)
    cycle = demo_cycles["poc_manufacturing_2025"]
    fops = FOP.objects.filter(cycle=cycle)
    assert fops.count() == 33
    assert set(fops.values_list("source", "status").distinct()) == {(FOP.Source.PUBLISHED, FOP.Status.RATIFIED)}
    assert fops.filter(priority=True).count() == 20
    assert FOPCapability.objects.filter(fop__cycle=cycle).count() == 102
    chief = fops.get(name="Chief Pharmacist")
    assert chief.entries.get(capability__ref="C01").proficiency == 3
    assert all(fop_history_verify(fop=f).ok for f in fops)


def test_the_point_of_care_cycle_gets_its_published_tag_frequencies(demo_cycles):
    demo.load(settings.SHARED_DATA_DIR)
    rows = PublishedTagFrequency.objects.filter(cycle=demo_cycles["poc_manufacturing_2025"])
    assert rows.filter(kind="K").count() == 27 and rows.filter(kind="S").count() == 10
    assert rows.get(kind="S", tag="Perform Data Analysis").count == 20


def test_the_digitalisation_cycle_gets_its_25_fops_with_role_levels(demo_cycles):
    demo.load(settings.SHARED_DATA_DIR)
    fops = FOP.objects.filter(cycle=demo_cycles["cgt_digitalisation_2024"])
    assert fops.count() == 25
    assert not fops.filter(role_level__isnull=True).exists()
    assert fops.get(name="Data analysts").role_level.name == "Cell and Gene (C&G) Apprentices and Technician"


def test_loading_the_demo_twice_changes_nothing(demo_cycles):
    demo.load(settings.SHARED_DATA_DIR)
    before = sorted(FOP.objects.values_list("pk", "name", "history_hash"))
    demo.load(settings.SHARED_DATA_DIR)
    assert sorted(FOP.objects.values_list("pk", "name", "history_hash")) == before
    assert PublishedTagFrequency.objects.count() == 37

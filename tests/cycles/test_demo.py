"""The demo loader: the two published cycles and one user per role, idempotent."""

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import Organisation, User
from cycles import demo
from cycles.models import (
    Cycle,
    CycleOrganisation,
    Membership,
    Phase,
    PhasePlan,
    RoleLevel,
    Solution,
    SupplyChainPartner,
    Workshop,
)

pytestmark = pytest.mark.django_db

MODELS = [
    User,
    Organisation,
    Cycle,
    PhasePlan,
    Membership,
    CycleOrganisation,
    SupplyChainPartner,
    RoleLevel,
    Solution,
    Workshop,
]


def counts():
    return {m.__name__: m.objects.count() for m in MODELS}


@pytest.fixture
def data_dir():
    if not (settings.SHARED_DATA_DIR / "seed_cycles").is_dir():
        pytest.skip("the shared data folder is not beside this checkout (set SHARED_DATA_DIR)")
    return settings.SHARED_DATA_DIR


def test_loading_the_foundation_demo_twice_duplicates_nothing(data_dir):
    demo.load(data_dir)
    first = counts()
    demo.load(data_dir)
    assert counts() == first
    assert first["Cycle"] == 2 and first["PhasePlan"] == 12


def test_the_demo_cycles_are_in_their_published_phases_with_their_set_up(data_dir):
    demo.load(data_dir)
    poc = Cycle.objects.get(slug="poc_manufacturing_2025")
    cgt = Cycle.objects.get(slug="cgt_digitalisation_2024")
    assert poc.phase == Phase.CARRY_OUT and cgt.phase == Phase.CAUSE_ACTION
    assert poc.partners.exists() and poc.role_levels.exists() and cgt.solutions.exists()
    for email in ["convener", "technologist", "employer", "educator", "observer"]:
        user = User.objects.get(email=f"{email}@demo.test")
        assert user.check_password(demo.DEMO_PASSWORD)
        assert Membership.objects.filter(user=user, cycle=poc, role=email).exists()


def test_the_demo_convener_sees_both_cycles(data_dir, client):
    demo.load(data_dir)
    client.login(username="convener@demo.test", password=demo.DEMO_PASSWORD)
    html = client.get("/cycles/").content.decode()
    assert "point of care" in html.lower() and "digitalisation" in html.lower()


def test_the_whole_load_demo_command_is_idempotent(data_dir):
    call_command("load_demo", "--skip-frameworks", data_dir=str(data_dir), stdout=open("/dev/null", "w"))
    first = counts()
    call_command("load_demo", "--skip-frameworks", data_dir=str(data_dir), stdout=open("/dev/null", "w"))
    assert counts() == first

"""The join services decide who may act (docs/architecture.md, Authorisation): only the cycle's
convener (or a site administrator, or the system) changes a code; refused calls change nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from cycles.models import Membership
from tests.factories import UserFactory
from workshops.join import services
from workshops.models import JoinCode

pytestmark = pytest.mark.django_db

ACTS = {
    "update": lambda code, actor: services.join_code_update(
        code=code, actor=actor, open_join=True, role="technologist", group="skills"
    ),
    "revoke": lambda code, actor: services.join_code_revoke(code=code, actor=actor),
    "renew": lambda code, actor: services.join_code_renew(code=code, actor=actor),
}


def _snapshot(code: JoinCode) -> tuple:
    code.refresh_from_db()
    return (code.code, code.open_join, code.role, code.group, code.revoked_at)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize(
    "who", ["technologist", "employer", "educator", "observer", "outsider", "anonymous", "removed"]
)
def test_only_the_convener_changes_a_code(personas, code, act, who):
    if who == "anonymous":
        actor = AnonymousUser()
    elif who == "removed":
        actor = UserFactory(email="gone@a.test")
        Membership.objects.create(cycle=personas.cycle, user=actor, role="convener", status=Membership.Status.REMOVED)
    else:
        actor = getattr(personas, who)
    before = _snapshot(code)
    with pytest.raises(PermissionDenied):
        ACTS[act](code, actor)
    assert _snapshot(code) == before


@pytest.mark.parametrize("act", ACTS)
def test_the_convener_an_administrator_and_the_system_may(personas, code, act):
    admin = UserFactory(email="admin@site.test", is_superuser=True, is_staff=True)
    for actor in (personas.convener, admin, None):
        ACTS[act](code, actor)


def test_a_workshop_code_is_made_by_the_convener_only(personas, workshop):
    with pytest.raises(PermissionDenied):
        services.join_code_for_workshop(workshop=workshop, actor=personas.technologist)
    assert not JoinCode.objects.filter(workshop=workshop).exists()
    code = services.join_code_for_workshop(workshop=workshop, actor=personas.convener)
    assert services.join_code_for_workshop(workshop=workshop, actor=personas.convener) == code  # one per workshop


def test_a_code_has_eight_symbols_none_of_them_look_alikes(code):
    assert len(code.code) == 8 and not set(code.code) & set("01ILOUV")


def test_sign_ups_stop_exactly_at_the_maximum(open_code):
    open_code.max_uses = 2
    open_code.save()
    services.join_code_sign_up(
        code=open_code, email="one@new.test", display_name="One", organisation_name="Org", password="x-long-pass-1"
    )
    open_code.uses = 0  # a stale copy, as a concurrent request would hold: the claim reads the row
    services.join_code_sign_up(
        code=open_code, email="two@new.test", display_name="Two", organisation_name="Org", password="x-long-pass-2"
    )
    with pytest.raises(ValidationError, match="as many people as the convener allowed"):
        services.join_code_sign_up(
            code=open_code, email="three@new.test", display_name="Three", organisation_name="Org", password="x-long-3"
        )
    open_code.refresh_from_db()
    assert open_code.uses == 2


def test_open_join_cannot_give_the_conveners_role(personas, code):
    with pytest.raises(ValidationError):
        services.join_code_update(code=code, actor=personas.convener, open_join=True, role="convener", group="skills")

"""Builders for Delphi tests: a cycle's accepted capabilities, role levels and an open round."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Organisation
from cycles.models import Membership, Role
from tests.factories import MembershipFactory, RoleLevelFactory, UserFactory
from workshops.delphi.services import delphi_plan_ensure, round_open
from workshops.models import Capability, DelphiItem, DelphiPlan, Round


@dataclass
class Delphi:
    cycle: object
    plan: DelphiPlan
    round: Round
    items: list[DelphiItem]


def add_capabilities(cycle, count: int, start: int = 1) -> list[Capability]:
    return [
        Capability.objects.create(
            cycle=cycle,
            ref=f"C{n:02d}",
            statement=f"Operate capability number {n} safely.",
            status=Capability.Status.ACCEPTED,
        )
        for n in range(start, start + count)
    ]


def start_delphi(
    cycle, convener, *, capabilities: int = 2, levels: int = 2, live: bool = False, **plan_fields
) -> Delphi:
    add_capabilities(cycle, capabilities)
    for n in range(levels):
        RoleLevelFactory(cycle=cycle, name=f"Level {n + 1}", order=n)
    plan = delphi_plan_ensure(cycle=cycle)
    plan.voting_roles = plan_fields.pop("voting_roles", [str(Role.TECHNOLOGIST), str(Role.EMPLOYER)])
    plan.feedback_mode = DelphiPlan.FeedbackMode.LIVE if live else DelphiPlan.FeedbackMode.CLASSIC
    for key, value in plan_fields.items():
        setattr(plan, key, value)
    plan.save()
    rnd = round_open(cycle=cycle, actor=convener)
    items = list(DelphiItem.objects.filter(cycle=cycle).order_by("capability__ref", "role_level__order"))
    plan.refresh_from_db()
    return Delphi(cycle=cycle, plan=plan, round=rnd, items=items)


def add_panellists(cycle, count: int, role: str = Role.TECHNOLOGIST, groups=("technology", "industry", "skills")):
    people = []
    for n in range(count):
        group = groups[n % len(groups)]
        org, _ = Organisation.objects.get_or_create(name=f"Org {group}", defaults={"group": group})
        user = UserFactory(email=f"panellist{n}-{cycle.slug}@example.test", organisation=org)
        MembershipFactory(cycle=cycle, user=user, role=role, status=Membership.Status.ACTIVE)
        people.append(user)
    return people


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hashing a password the real way takes ~0.3 s; tests create dozens of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

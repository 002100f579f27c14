"""A simulated Delphi panel, driven through the real services (vote_cast, round_open/close, aggregation).

The model: each item has a latent proficiency (capability base + role-level step); each panellist
has a personal bias and answers with noise in round 1. In later rounds a panellist who sees the
group median move away from their own answer revises towards it with a probability that grows per
round; a few drop out each round and some skip items. Everything comes from one seeded RNG and
runs in a fixed order, so a seed gives the same answers and results every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import Organisation, OrganisationGroup, User
from cycles.models import Cycle, Membership, Role
from workshops.delphi.aggregation import round_aggregate
from workshops.delphi.realtime import batched_announcements
from workshops.delphi.services import DelphiError, delphi_plan_ensure, round_close, round_open, vote_cast
from workshops.models import DelphiItem, DelphiPlan, ItemResult, Round, Vote, VoteReceipt

HAS_ROUNDS = "Cycle “{slug}” already has Delphi rounds; pass --reset to delete them and simulate again."
NO_CAPABILITIES = "Cycle “{slug}” has no accepted capabilities or no role levels to vote on."
GROUPS = [OrganisationGroup.TECHNOLOGY, OrganisationGroup.INDUSTRY, OrganisationGroup.SKILLS]
RATIONALES = [
    "Needed day to day on the shop floor.",
    "Only awareness: specialists handle this.",
    "Regulators will expect hands-on expertise here.",
    "Automation reduces how much of this people do.",
    "Depends on the site; hubs need more than spokes.",
    "Critical for release decisions.",
]
SIMULATED_PASSWORD = "simulated-panellist"


@dataclass
class SimulationReport:
    panellists: int = 0
    rounds: list[dict] = field(default_factory=list)


def _clamp(value: float) -> int:
    return max(0, min(3, int(round(value))))


def _panellists(cycle: Cycle, count: int, roles: list[str], rng: random.Random) -> list[User]:
    people = []
    for n in range(count):
        group = GROUPS[n % len(GROUPS)]
        org, _ = Organisation.objects.get_or_create(
            name=f"Simulated {group.label.lower()} organisation {n % 7 + 1}", defaults={"group": group}
        )
        email = f"sim-{cycle.slug}-{n + 1:03d}@simulated.test"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=SIMULATED_PASSWORD, display_name=f"Simulated panellist {n + 1}", organisation=org
            )
        role = roles[n % len(roles)]
        Membership.objects.update_or_create(
            cycle=cycle, user=user, defaults={"role": role, "status": Membership.Status.ACTIVE}
        )
        people.append(user)
    return people


@transaction.atomic
def delphi_reset(*, cycle: Cycle) -> None:
    """Remove every round, vote and result of a cycle and unlock its plan (simulation and demos only)."""
    VoteReceipt.objects.filter(round__cycle=cycle).delete()
    Vote.objects.filter(round__cycle=cycle).delete()
    ItemResult.objects.filter(round__cycle=cycle).delete()
    Round.objects.filter(cycle=cycle).delete()
    DelphiItem.objects.filter(cycle=cycle).delete()
    DelphiPlan.objects.filter(cycle=cycle).update(locked_at=None)


def delphi_simulate(
    *, cycle: Cycle, panellists: int, rounds: int, seed: int, actor=None, reset: bool = False, log=None
) -> SimulationReport:
    log = log or (lambda text: None)
    if Round.objects.filter(cycle=cycle).exists():
        if not reset:
            raise DelphiError("has_rounds", HAS_ROUNDS.format(slug=cycle.slug))
        delphi_reset(cycle=cycle)
    rng = random.Random(seed)
    plan = delphi_plan_ensure(cycle=cycle)
    if not plan.is_locked and plan.max_rounds != rounds:
        plan.max_rounds = rounds  # so the last simulated round is the plan's last
        plan.save(update_fields=["max_rounds"])
    voting_roles = [r for r in plan.voting_roles if r != Role.CONVENER] or [str(Role.TECHNOLOGIST)]
    people = _panellists(cycle, panellists, voting_roles, rng)
    report = SimulationReport(panellists=len(people))

    first = round_open(cycle=cycle, actor=actor)
    items = list(
        DelphiItem.objects.filter(cycle=cycle)
        .select_related("capability", "role_level")
        .order_by("capability__ref", "role_level__order", "role_level_id")
    )
    if not items:
        raise DelphiError("no_items", NO_CAPABILITIES.format(slug=cycle.slug))
    levels = sorted({i.role_level.order for i in items})
    capability_base = {}
    for item in items:
        if item.capability_id not in capability_base:
            capability_base[item.capability_id] = rng.choice([0, 1, 1, 2, 2, 2, 3])
    # Higher role levels (lower order) need a little more: a step of up to one level.
    truth = {
        item.pk: _clamp(
            capability_base[item.capability_id] + 0.6 * (len(levels) // 2 - levels.index(item.role_level.order))
        )
        for item in items
    }
    bias = {p.pk: rng.gauss(0, 0.45) for p in people}
    active = {p.pk for p in people}
    previous_answers: dict[tuple[int, int], int] = {}
    medians: dict[int, float] = {}

    rnd = first
    for number in range(1, rounds + 1):
        round_items = [i for i in items if i.pk in set(rnd.items.values_list("pk", flat=True))]
        if number > 1:
            for person in people:
                if person.pk in active and rng.random() < 0.06:
                    active.discard(person.pk)
        answers: dict[tuple[int, int], int] = {}
        with batched_announcements():
            for person in people:
                if person.pk not in active:
                    continue
                for item in round_items:
                    if rng.random() < 0.04:
                        continue  # skipped this one
                    key = (person.pk, item.pk)
                    if number == 1 or key not in previous_answers:
                        value = _clamp(truth[item.pk] + bias[person.pk] + rng.gauss(0, 0.8))
                    else:
                        value = previous_answers[key]
                        median = medians.get(item.pk)
                        if median is not None and value != median and rng.random() < 0.35 + 0.15 * number:
                            value += 1 if median > value else -1
                        elif rng.random() < 0.05:
                            value = _clamp(value + rng.choice([-1, 1]))
                    rationale = rng.choice(RATIONALES) if rng.random() < 0.08 else ""
                    # Only where the plan offers it, so a seed gives the same answers as before otherwise.
                    if plan.allow_cant_judge and rng.random() < 0.03:
                        vote_cast(
                            round_id=rnd.pk, panellist=person, item_id=item.pk, value=None, cant_judge=True,
                            client_id=f"sim-{seed}-{number}-{person.pk}-{item.pk}",
                        )  # fmt: skip
                        continue
                    vote_cast(
                        round_id=rnd.pk,
                        panellist=person,
                        item_id=item.pk,
                        value=value,
                        rationale=rationale,
                        client_id=f"sim-{seed}-{number}-{person.pk}-{item.pk}",
                    )
                    answers[key] = value
        round_close(round_id=rnd.pk, actor=actor)
        summary = round_aggregate(round_id=rnd.pk)
        report.rounds.append(summary)
        log(
            f"Round {number}: {summary['votes']} answers from {summary['responded']} panellists; "
            f"{summary['items_reached']} items reached consensus, {summary['items_stable']} stable, "
            f"{summary['items_carried']} carried."
        )
        previous_answers.update(answers)
        medians = {r.item_id: r.median for r in ItemResult.objects.filter(round=rnd) if r.median is not None}
        if number == rounds:
            break
        try:
            rnd = round_open(cycle=cycle, actor=actor)
        except DelphiError as error:
            log(f"Stopping after round {number}: {error.message}")
            break
    return report

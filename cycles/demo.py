"""Demo data for the foundation: the two published cycles' set-up and one user per role.

Idempotent: every record is looked up by its natural key first, so running it again changes
nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import Organisation, User
from cycles.models import (
    Cycle,
    CycleOrganisation,
    Membership,
    Phase,
    PhasePlan,
    Role,
    RoleLevel,
    Solution,
    SupplyChainPartner,
    Theme,
    Workshop,
)

DEMO_PASSWORD = "foresight-demo"
DEMO_USERS = [
    ("convener@demo.test", "Dana Convener", Role.CONVENER, "Cell and Gene Therapy Catapult", "skills"),
    ("technologist@demo.test", "Tomas Technologist", Role.TECHNOLOGIST, "Cytiva", "technology"),
    ("employer@demo.test", "Emma Employer", Role.EMPLOYER, "Oxford Biomedica", "industry"),
    ("educator@demo.test", "Eddie Educator", Role.EDUCATOR, "Kings College London", "skills"),
    (
        "observer@demo.test",
        "Olive Observer",
        Role.OBSERVER,
        "The Advanced Therapy Treatment Centre (ATTC) network",
        "sponsor",
    ),
]
SEED_FILES = {
    "poc_manufacturing_2025": Phase.CARRY_OUT,
    "cgt_digitalisation_2024": Phase.CAUSE_ACTION,
}
# Academic level ranges for the published role levels (the reports do not print them; these are
# the conventional apprenticeship bands for each family).
ROLE_LEVEL_ACADEMIC = {
    "Strategic & Operational Management": (6, 7),
    "Operational Leadership": (4, 6),
    "Professional & Delivery": (3, 5),
    "Cell and Gene (C&G) Scientists": (5, 6),
    "Cell and Gene (C&G) Senior Manager / Manager": (6, 7),
    "Cell and Gene (C&G) Apprentices and Technician": (2, 4),
    "Cell and Gene (C&G) Senior Scientists / Lead": (6, 7),
}


def seed_path(data_dir: Path, slug: str) -> Path:
    return data_dir / "seed_cycles" / f"{slug}.json"


def read_seed(data_dir: Path, slug: str) -> dict:
    with seed_path(data_dir, slug).open(encoding="utf-8") as fh:
        return json.load(fh)


def _month_start(value: str | None) -> date | None:
    if not value:
        return None
    year, month = value.split("-")[:2]
    return date(int(year), int(month), 1)


@transaction.atomic
def load_users() -> dict[str, User]:
    users = {}
    for email, name, _role, org_name, group in DEMO_USERS:
        org, _ = Organisation.objects.get_or_create(name=org_name, defaults={"group": group})
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, display_name=name, organisation=org)
        users[email] = user
    return users


@transaction.atomic
def load_cycle(data: dict, phase: int, users: dict[str, User]) -> Cycle:
    meta = data["cycle"]
    convener = users["convener@demo.test"]
    cycle, _ = Cycle.objects.get_or_create(
        slug=meta["slug"],
        defaults={
            "title": meta["title"],
            "challenge": meta.get("challenge") or "",
            "sector": meta.get("sector") or "",
            "technology_focus": ", ".join(meta.get("technology_focus") or []),
            "sponsor": meta.get("sponsor") or "",
            "convener_organisation": meta.get("convener") or "",
            "centre_of_innovation": meta.get("centre_of_innovation") or "",
            "phase": phase,
            "created_by": convener,
            "published_facts": {
                "headline_figures": data.get("headline_figures") or {},
                "proficiency_distribution_by_role_level": data.get("proficiency_distribution_by_role_level"),
                "report_published": meta.get("report_published"),
                "workshops": meta.get("workshops"),
                "transcription_notes": data.get("transcription_notes") or [],
            },
        },
    )
    workshops = meta.get("workshops") or {}
    carry_start, carry_end = _month_start(workshops.get("start")), _month_start(workshops.get("end"))
    for number, _label in Phase.choices:
        plan, created = PhasePlan.objects.get_or_create(cycle=cycle, phase=number)
        if created and carry_start and number == Phase.CARRY_OUT:
            plan.planned_start, plan.planned_end = carry_start, carry_end
            plan.actual_start = carry_start if phase >= Phase.CARRY_OUT else None
            plan.actual_end = carry_end if phase > Phase.CARRY_OUT else None
            plan.save()
    for email, _name, role, _org, _group in DEMO_USERS:
        Membership.objects.get_or_create(cycle=cycle, user=users[email], defaults={"role": role})
    for org in data.get("organisations") or []:
        organisation, _ = Organisation.objects.get_or_create(name=org["name"], defaults={"group": org["group"]})
        CycleOrganisation.objects.get_or_create(cycle=cycle, organisation=organisation, group=org["group"])
    for order, partner in enumerate(data.get("supply_chain_partners") or [], start=1):
        SupplyChainPartner.objects.get_or_create(
            cycle=cycle,
            name=partner["name"],
            defaults={"description": partner.get("description") or "", "order": order},
        )
    for order, level in enumerate(data.get("role_levels") or [], start=1):
        low, high = ROLE_LEVEL_ACADEMIC.get(level["name"], (2, 7))
        RoleLevel.objects.get_or_create(
            cycle=cycle,
            name=level["name"],
            defaults={
                "description": level.get("description") or "",
                "order": order,
                "academic_level_min": low,
                "academic_level_max": high,
            },
        )
    for solution in data.get("solutions") or []:
        Solution.objects.get_or_create(
            cycle=cycle,
            title=solution["title"],
            defaults={
                "description": solution.get("description") or "",
                "prioritised": bool(solution.get("prioritised")),
            },
        )
    _load_workshops(cycle, carry_start, convener)
    for theme in data.get("themes") or []:
        Theme.objects.get_or_create(
            cycle=cycle,
            number=theme["number"],
            defaults={"title": theme["title"], "description": theme.get("description") or ""},
        )
    return cycle


# The reports give only the months of the workshop series; these sessions place one workshop of
# each kind across those months so the timeline and calendars have something real to show.
DEMO_WORKSHOPS = [
    (0, "technologist", "Technologist workshop: capability capture"),
    (1, "employer", "Employer workshop: proficiency rounds and FOP ratification"),
    (2, "educator", "Educator workshop: KSB tagging"),
    (3, "plenary", "Plenary: findings and priorities"),
]


def _load_workshops(cycle: Cycle, first_month: date | None, convener: User) -> None:
    if first_month is None:
        return
    tz = ZoneInfo("Europe/London")
    for months_later, kind, title in DEMO_WORKSHOPS:
        month = first_month.month - 1 + months_later
        day = date(first_month.year + month // 12, month % 12 + 1, 10)
        Workshop.objects.get_or_create(
            cycle=cycle,
            title=title,
            defaults={
                "kind": kind,
                "starts_at": datetime.combine(day, time(10, 0), tzinfo=tz),
                "ends_at": datetime.combine(day, time(15, 0), tzinfo=tz),
                "timezone": "Europe/London",
                "place": "Cell and Gene Therapy Catapult, Guy's Hospital, London" if kind != "plenary" else "",
                "video_link": "https://meet.example.org/foresight" if kind == "plenary" else "",
                "facilitator": convener,
            },
        )


def load(data_dir: Path, stdout=None) -> dict[str, Cycle]:
    users = load_users()
    cycles = {}
    for slug, phase in SEED_FILES.items():
        cycles[slug] = load_cycle(read_seed(data_dir, slug), phase, users)
    return cycles

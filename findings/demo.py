"""Demo data of the findings app: the published action plans of the two demo cycles.

Idempotent: an action is looked up by (cycle, topic, action text) before it is created, so running
it again adds nothing and keeps any status a convener has changed since.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from cycles.models import Cycle
from findings.models import ActionItem, Horizon

SEED_SLUGS = ("cgt_digitalisation_2024", "poc_manufacturing_2025")


def _seed(data_dir: Path, slug: str) -> dict:
    with (Path(data_dir) / "seed_cycles" / f"{slug}.json").open(encoding="utf-8") as fh:
        return json.load(fh)


@transaction.atomic
def load_actions(cycle: Cycle, actions: list[dict]) -> int:
    created = 0
    for order, entry in enumerate(actions, start=1):
        horizon = entry.get("horizon") or Horizon.GENERAL
        if horizon not in Horizon.values:
            raise ValueError(f"Action {order} of {cycle.slug}: unknown horizon {horizon!r}")
        _item, was_created = ActionItem.objects.get_or_create(
            cycle=cycle,
            topic=(entry.get("topic") or "")[:300],
            action=entry.get("actions") or "",
            defaults={
                "horizon": horizon,
                "who": entry.get("who") or "",
                "when": entry.get("when") or "",
                "expected_result": entry.get("result") or "",
                "source": ActionItem.Source.PUBLISHED,
                "order": order,
            },
        )
        created += int(was_created)
    return created


def load(data_dir: Path, stdout=None) -> dict[str, int]:
    counts = {}
    for slug in SEED_SLUGS:
        cycle = Cycle.objects.filter(slug=slug).first()
        if cycle is None:
            continue
        counts[slug] = load_actions(cycle, _seed(data_dir, slug).get("actions") or [])
        if stdout is not None:
            total = ActionItem.objects.filter(cycle=cycle).count()
            stdout.write(f"  {slug}: {counts[slug]} action(s) added, {total} in the plan")
    return counts

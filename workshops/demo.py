"""Demo data of the workshops app, called by ``python manage.py load_demo`` after cycles.demo.

Idempotent: every record is looked up by its natural key, so running it again changes nothing.
Each part is its own function; ``load`` runs them in order. Add further parts (FOPs, KSB tags,
Delphi results …) as ``load_<part>(data_dir, cycles, stdout)`` functions and list them in
``load``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from cycles.models import Cycle
from workshops.capture.taxonomy import taxonomy_load_default
from workshops.fops import demo as demo_fops
from workshops.models import Capability

# The cycles whose published capabilities the demo loads (report 1's are not transcribed).
CAPABILITY_CYCLES = ["poc_manufacturing_2025"]

PARTNER_UNKNOWN = "{slug} {ref}: no supply-chain partner named {name!r} in the cycle."


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def read_seed(data_dir: Path, slug: str) -> dict:
    with (Path(data_dir) / "seed_cycles" / f"{slug}.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def load_taxonomy(stdout=None) -> None:
    result = taxonomy_load_default()
    _say(stdout, f"  taxonomy: {result.summary()}")


@transaction.atomic
def load_capabilities(data_dir: Path, slug: str, stdout=None) -> list[Capability]:
    """The published capabilities of one cycle, with refs, highlights, partners and provision, accepted."""
    cycle = Cycle.objects.filter(slug=slug).first()
    if cycle is None:
        _say(stdout, f"  capabilities: cycle {slug} not loaded yet, skipped")
        return []
    data = read_seed(data_dir, slug)
    partners = {" ".join(p.name.split()).lower(): p for p in cycle.partners.all()}
    loaded = []
    for entry in data.get("capabilities") or []:
        wanted = []
        for name in entry.get("supply_chain_partners") or []:
            partner = partners.get(" ".join(name.split()).lower())
            if partner is None:
                raise ValueError(PARTNER_UNKNOWN.format(slug=slug, ref=entry["ref"], name=name))
            wanted.append(partner)
        capability, _ = Capability.objects.update_or_create(
            cycle=cycle,
            ref=entry["ref"],
            defaults={
                "statement": entry["statement"],
                "status": Capability.Status.ACCEPTED,
                "highlighted": bool(entry.get("highlighted")),
                "highlight_reason": entry.get("highlight_reason") or "",
                "published_provision": entry.get("provision") or {},
            },
        )
        capability.partners.set(wanted)
        loaded.append(capability)
    _say(stdout, f"  capabilities: {len(loaded)} published capabilities of {slug}")
    return loaded


def load(data_dir: Path, stdout=None) -> None:
    load_taxonomy(stdout)
    for slug in CAPABILITY_CYCLES:
        load_capabilities(data_dir, slug, stdout)
    # More parts of the workshops demo (FOPs, KSB tags, Delphi) go here, after the capabilities
    # they build on.
    demo_fops.load(data_dir, stdout)

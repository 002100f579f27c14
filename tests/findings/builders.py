"""Test data for the findings: the two published demo cycles, and a small hand-made cycle whose
every count is known.

The demo builder reads the same seed files as ``load_demo`` (cycles.demo for the set-up, then the
published capabilities, FOPs, proficiencies and tag frequencies) without depending on how other
apps' demo loaders evolve, so the findings tests stay fast and deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from accounts.models import Organisation
from cycles import demo as cycles_demo
from cycles.models import Cycle, CycleOrganisation, Membership, Role, RoleLevel, SupplyChainPartner
from findings import demo as findings_demo
from workshops.models import (
    FOP,
    Capability,
    CapabilityTag,
    DelphiItem,
    FOPCapability,
    Function,
    FunctionalArea,
    FunctionalDomain,
    PublishedTagFrequency,
    Tag,
    TagKind,
)

DATA_DIR = Path(settings.SHARED_DATA_DIR)
POC = "poc_manufacturing_2025"
CGT = "cgt_digitalisation_2024"
FUNCTIONS = ["Design", "Implement", "Logistics", "Support", "Enterprise"]


def seed(slug: str) -> dict:
    with (DATA_DIR / "seed_cycles" / f"{slug}.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def taxonomy() -> list[tuple[Function, FunctionalDomain, FunctionalArea]]:
    out = []
    for order, name in enumerate(FUNCTIONS, start=1):
        function, _ = Function.objects.get_or_create(name=name, defaults={"order": order})
        domain, _ = FunctionalDomain.objects.get_or_create(function=function, name=f"{name} domain")
        area, _ = FunctionalArea.objects.get_or_create(domain=domain, name=f"{name} area")
        out.append((function, domain, area))
    return out


def build_demo() -> dict[str, Cycle]:
    cycles = cycles_demo.load(DATA_DIR)
    classes = taxonomy()
    poc, cgt = cycles[POC], cycles[CGT]
    data = seed(POC)
    partners = {p.name: p for p in SupplyChainPartner.objects.filter(cycle=poc)}
    caps = {}
    for i, entry in enumerate(data["capabilities"]):
        # The report prints no classification: spread the capabilities over the five functions.
        function, domain, area = classes[i % len(classes)]
        cap = Capability.objects.create(
            cycle=poc,
            ref=entry["ref"],
            statement=entry["statement"],
            status=Capability.Status.ACCEPTED,
            function=function,
            domain=domain,
            area=area,
            highlighted=bool(entry["highlighted"]),
            highlight_reason=entry.get("highlight_reason") or "",
            published_provision=entry.get("provision") or {},
        )
        cap.partners.set([partners[name] for name in entry.get("supply_chain_partners") or []])
        caps[entry["ref"]] = cap
    fops = {}
    for entry in data["fops"]:
        fops[entry["name"]] = FOP.objects.create(
            cycle=poc,
            name=entry["name"],
            description=entry.get("description") or "",
            priority=bool(entry.get("priority")),
            status=FOP.Status.RATIFIED,
            source=FOP.Source.PUBLISHED,
        )
    FOPCapability.objects.bulk_create(
        FOPCapability(fop=fops[p["fop"]], capability=caps[p["capability_ref"]], proficiency=p["value"])
        for p in data["fop_proficiencies"]
    )
    for kind, key in ((TagKind.KNOWLEDGE, "knowledge"), (TagKind.SKILL, "skills")):
        PublishedTagFrequency.objects.bulk_create(
            PublishedTagFrequency(cycle=poc, kind=kind, tag=t["tag"], count=t["count"])
            for t in data["tag_frequencies"][key]
        )
    cgt_data = seed(CGT)
    levels = {level.name: level for level in RoleLevel.objects.filter(cycle=cgt)}
    for entry in cgt_data["fops"]:
        level = next((lvl for name, lvl in levels.items() if name.endswith(entry["role_level"])), None)
        FOP.objects.create(
            cycle=cgt, name=entry["name"], role_level=level, status=FOP.Status.RATIFIED, source=FOP.Source.PUBLISHED
        )
    findings_demo.load(DATA_DIR)
    return cycles


def build_mini() -> dict:
    """A small cycle with hand-known numbers (see the docstrings of the tests that use it)."""
    cycle = Cycle.objects.create(slug="mini", title="Mini cycle", challenge="Adopt modular manufacturing by 2030.")
    other = Cycle.objects.create(slug="mini-other", title="Other cycle", challenge="Another challenge.")
    (design, d_dom, d_area), (implement, i_dom, i_area), (logistics, l_dom, l_area) = taxonomy()[:3]
    p1 = SupplyChainPartner.objects.create(cycle=cycle, name="Equipment providers", order=1)
    p2 = SupplyChainPartner.objects.create(cycle=cycle, name="NHS workforce", order=2)
    ops = RoleLevel.objects.create(
        cycle=cycle, name="Operational leadership", academic_level_min=4, academic_level_max=6, order=1
    )
    pro = RoleLevel.objects.create(
        cycle=cycle, name="Professional & delivery", academic_level_min=3, academic_level_max=5, order=2
    )

    def cap(ref, statement, function, domain, area, partners, status=Capability.Status.ACCEPTED, **extra):
        c = Capability.objects.create(
            cycle=cycle,
            ref=ref,
            statement=statement,
            function=function,
            domain=domain,
            area=area,
            status=status,
            **extra,
        )
        c.partners.set(partners)
        return c

    c1 = cap(
        "C1",
        "Design modular cleanroom pods for rapid deployment.",
        design,
        d_dom,
        d_area,
        [p1],
        highlighted=True,
        highlight_reason="A step change for spoke sites.",
        published_provision={
            "status": "match",
            "best_match_duty": "Design facilities.",
            "standard": "Facilities engineer",
        },
    )
    c2 = cap("C2", "Implement digital batch records across sites.", implement, i_dom, i_area, [p1, p2])
    c3 = cap(
        "C3",
        "Operate automated fill and finish systems.",
        implement,
        i_dom,
        i_area,
        [p2],
        published_provision={"status": "none", "best_match_duty": None, "standard": None},
    )
    c4 = cap("C4", "Track cold chain shipments in real time.", logistics, l_dom, l_area, [])
    c5 = cap("C5", '=HYPERLINK("http://x") Maintain equipment qualification.', None, None, None, [p2])
    cap("C6", "A rejected statement.", design, d_dom, d_area, [p1], status=Capability.Status.REJECTED)
    cap("C7", "A merged duplicate.", design, d_dom, d_area, [p1], status=Capability.Status.MERGED)
    f1 = FOP.objects.create(
        cycle=cycle, name="Validation Engineer", role_level=ops, priority=True, status=FOP.Status.RATIFIED
    )
    f2 = FOP.objects.create(cycle=cycle, name="Manufacturing Operative", role_level=pro, status=FOP.Status.RATIFIED)
    f3 = FOP.objects.create(cycle=cycle, name="Logistics Lead", role_level=None, status=FOP.Status.RATIFIED)
    entries = [(f1, c1, 3), (f1, c2, 2), (f1, c5, 1), (f2, c2, 1), (f2, c3, 3), (f3, c4, 2), (f3, c2, 2)]
    FOPCapability.objects.bulk_create(FOPCapability(fop=f, capability=c, proficiency=p) for f, c, p in entries)
    k_gmp = Tag.objects.create(kind=TagKind.KNOWLEDGE, name="GMP", normalised="gmp")
    k_gmp_old = Tag.objects.create(
        kind=TagKind.KNOWLEDGE,
        name="Good manufacturing practice",
        normalised="good manufacturing practice",
        merged_into=k_gmp,
    )
    k_auto = Tag.objects.create(kind=TagKind.KNOWLEDGE, name="Automation", normalised="automation")
    s_data = Tag.objects.create(kind=TagKind.SKILL, name="Perform data analysis", normalised="perform data analysis")
    b_team = Tag.objects.create(kind=TagKind.BEHAVIOUR, name="Teamwork", normalised="teamwork")
    links = [(c1, k_gmp), (c2, k_gmp), (c3, k_gmp_old), (c3, k_auto), (c2, s_data), (c4, s_data), (c1, b_team)]
    CapabilityTag.objects.bulk_create(CapabilityTag(capability=c, tag=t) for c, t in links)
    # A tag on a rejected capability must not count.
    CapabilityTag.objects.create(capability=Capability.objects.get(cycle=cycle, ref="C6"), tag=k_auto)
    consensus = [(c1, ops, 3), (c1, pro, 1), (c2, ops, 2), (c2, pro, 3), (c3, ops, 0), (c3, pro, 3), (c4, ops, 1)]
    for c, level, value in consensus:
        DelphiItem.objects.create(
            cycle=cycle, capability=c, role_level=level, consensus_value=value, outcome="consensus"
        )
    DelphiItem.objects.create(cycle=cycle, capability=c5, role_level=ops)  # no consensus yet
    for name, group in (("Acme Robotics", "technology"), ("City Hospital", "industry"), ("Tech College", "skills")):
        org, _ = Organisation.objects.get_or_create(name=name, defaults={"group": group})
        CycleOrganisation.objects.create(cycle=cycle, organisation=org, group=group)
    FOP.objects.create(cycle=other, name="Validation Specialist (other cycle)")
    return {
        "cycle": cycle,
        "other": other,
        "partners": (p1, p2),
        "levels": (ops, pro),
        "caps": (c1, c2, c3, c4, c5),
        "fops": (f1, f2, f3),
    }


def add_member(cycle: Cycle, user, role: str = Role.CONVENER) -> Membership:
    return Membership.objects.create(cycle=cycle, user=user, role=role)


# --- a hand-made match run ----------------------------------------------------------------------

DIM = 384
# Scores of the mini cycle's capabilities (rows) against seven duties (columns D1..D7) of three
# standards: S1 "Facilities engineer" (level 6: D1-D3), S2 "Manufacturing technician" (level 3:
# D4-D5), S3 "Supply chain practitioner" (level 2: D6-D7). Chosen so every figure can be worked
# out by hand (see test_provision_mini.py).
SCORES = {
    "C1": [0.80, 0.30, 0.20, 0.10, 0.10, 0.60, 0.10],
    "C2": [0.40, 0.55, 0.10, 0.70, 0.20, 0.10, 0.10],
    "C3": [0.20, 0.20, 0.20, 0.20, 0.20, 0.52, 0.10],
    "C4": [0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.45],
    "C5": [0.10, 0.10, 0.10, 0.51, 0.30, 0.10, 0.10],
}
DUTIES = [
    ("S1", "Findings test duty one: plan facility layouts for clean production."),
    ("S1", "Findings test duty two: introduce digital batch documentation."),
    ("S1", "Findings test duty three: schedule deliveries of controlled goods."),
    ("S2", "Findings test duty four: run automated batch equipment."),
    ("S2", "Findings test duty five: set up filling lines."),
    ("S3", "Findings test duty six: move stock between sites."),
    ("S3", "Findings test duty seven: sketch packaging concepts."),
]
# Stored vectors: capabilities and duties on a few axes, so the nearest capability of each duty
# (the current-state proxy) is known: D1, D7 -> C1 (Design); D2, D4 -> C2 and D5 -> C3 (Implement);
# D3, D6 -> C4 (Logistics).
CAPABILITY_AXES = {"C1": 0, "C2": 1, "C3": 2, "C4": 3, "C5": 4}
DUTY_AXES = [0, 1, 3, 1, 2, 3, 0]


def _unit(axis: int, wobble: int | None = None):
    import numpy as np

    v = np.zeros(DIM, dtype=np.float32)
    v[axis] = 1.0
    if wobble is not None:
        v[wobble] = 0.1
    return v / np.linalg.norm(v)


def clear_matching_caches() -> None:
    from findings import current_state
    from matching import embeddings, scoring, selectors

    scoring.forget_matrices()
    selectors._cache.clear()
    embeddings._recent.clear()
    current_state._cache.clear()


def build_framework() -> dict:
    """A small IfATE-like framework version: three standards, seven duties, stored vectors."""
    from matching import embeddings
    from matching.models import Framework, FrameworkVersion, Standard, Statement

    framework, _ = Framework.objects.get_or_create(kind=Framework.Kind.IFATE, defaults={"name": "Skills England"})
    version = FrameworkVersion.objects.create(
        framework=framework, label="findings-test", source="tests", checksum="findings-test", has_levels=True
    )
    standards = {
        "S1": Standard.objects.create(version=version, ref="ST-F1", title="Facilities engineer", level=6),
        "S2": Standard.objects.create(version=version, ref="ST-F2", title="Manufacturing technician", level=3),
        "S3": Standard.objects.create(version=version, ref="ST-F3", title="Supply chain practitioner", level=2),
    }
    statements = [
        Statement.objects.create(
            version=version,
            standard=standards[std],
            ref=f"D{i}",
            kind=Statement.Kind.DUTY,
            text=text,
            text_hash=embeddings.text_hash(text),
        )
        for i, (std, text) in enumerate(DUTIES, start=1)
    ]
    vectors = {
        s.text_hash: _unit(axis, wobble=0 if i == 3 else None)
        for i, (s, axis) in enumerate(zip(statements, DUTY_AXES, strict=True))
    }
    store_vectors(vectors)
    return {"version": version, "standards": standards, "statements": statements}


def store_vectors(vectors: dict) -> None:
    from matching import embeddings
    from matching.models import Embedding

    Embedding.objects.bulk_create(
        [Embedding(model=embeddings.MODEL_NAME, text_hash=h, vector=v.tobytes()) for h, v in vectors.items()],
        ignore_conflicts=True,
    )


def finished_run(
    cycle, framework: dict, rows: dict[int, list[float]], snapshot: dict, windows: dict, threshold: float = 0.5
):
    """A finished match run whose stored scores are ``rows`` (capability id -> a score per duty)."""
    import numpy as np
    from django.utils import timezone

    from matching import embeddings
    from matching.models import MatchRun, MatchScores

    run = MatchRun.objects.create(
        cycle=cycle,
        framework_version=framework["version"],
        model_name=embeddings.MODEL_NAME,
        threshold=threshold,
        level_window=1,
        top_k=3,
        status=MatchRun.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
        windows={str(k): v for k, v in windows.items()},
        fop_snapshot={str(k): v for k, v in snapshot.items()},
    )
    ids = list(rows)
    MatchScores.objects.create(
        run=run,
        capability_ids=np.array(ids, dtype=np.int64).tobytes(),
        column_hashes=b"".join(bytes.fromhex(s.text_hash) for s in framework["statements"]),
        matrix=np.array([rows[i] for i in ids], dtype=np.float16).tobytes(),
        rows=len(ids),
        columns=len(framework["statements"]),
    )
    return run


def build_mini_match(mini: dict, threshold: float = 0.5) -> dict:
    from matching import embeddings

    clear_matching_caches()
    framework = build_framework()
    caps = {c.ref: c for c in mini["caps"]}
    store_vectors({embeddings.text_hash(caps[ref].statement): _unit(axis) for ref, axis in CAPABILITY_AXES.items()})
    f1, f2, f3 = mini["fops"]
    snapshot = {
        f1.pk: {
            "capabilities": sorted([caps["C1"].pk, caps["C2"].pk, caps["C5"].pk]),
            "levels": [4, 6],
            "window": [3, 7],
        },
        f2.pk: {"capabilities": sorted([caps["C2"].pk, caps["C3"].pk]), "levels": [3, 5], "window": [2, 6]},
        f3.pk: {"capabilities": sorted([caps["C2"].pk, caps["C4"].pk]), "levels": None, "window": None},
    }
    windows = {
        caps["C1"].pk: [3, 7],
        caps["C2"].pk: None,
        caps["C3"].pk: [2, 6],
        caps["C4"].pk: None,
        caps["C5"].pk: [3, 7],
    }
    rows = {caps[ref].pk: SCORES[ref] for ref in ["C1", "C2", "C3", "C4", "C5"]}
    run = finished_run(mini["cycle"], framework, rows, snapshot, windows, threshold)
    return {"run": run, **framework}


def build_demo_match(cycle) -> object:
    """A finished run for a demo cycle: seeded pseudo-random scores of its FOP capabilities."""
    import numpy as np

    from matching import embeddings

    clear_matching_caches()
    framework = build_framework()
    fops = list(FOP.objects.filter(cycle=cycle).prefetch_related("entries"))
    snapshot = {
        f.pk: {"capabilities": sorted(e.capability_id for e in f.entries.all()), "levels": None, "window": None}
        for f in fops
    }
    cap_ids = sorted({c for entry in snapshot.values() for c in entry["capabilities"]})
    rng = np.random.default_rng(7)
    rows = {c: [round(float(v), 3) for v in rng.uniform(0.15, 0.75, size=len(DUTIES))] for c in cap_ids}
    caps = Capability.objects.in_bulk(cap_ids)
    store_vectors({embeddings.text_hash(caps[c].statement): _unit(i % 5) for i, c in enumerate(cap_ids)})
    return finished_run(cycle, framework, rows, snapshot, dict.fromkeys(cap_ids))

"""Builders for FOP and tag tests: capabilities with consensus proficiencies, FOPs in a state."""

from __future__ import annotations

from cycles.models import RoleLevel, SupplyChainPartner
from workshops.fops.services import fop_assign_reviewers, fop_create
from workshops.models import FOP, Capability, DelphiItem

STATEMENTS = [
    # cold chain and logistics
    ("Maintain cold chain integrity for cryopreserved starting materials during transport.", ["Logistics"]),
    ("Track the temperature and location of therapy shipments in real time.", ["Logistics"]),
    ("Coordinate courier collections and deliveries between hospital sites.", ["Logistics"]),
    # quality and regulation
    ("Perform batch record review to support release by the qualified person.", ["Hospital"]),
    ("Conduct internal audits of GMP compliance at spoke sites.", ["Hospital"]),
    ("Manage deviations and corrective and preventive actions in the quality system.", ["Hospital"]),
    # automation and data
    ("Programme robotic systems that automate cell processing steps.", ["Equipment"]),
    ("Integrate manufacturing equipment data into a central data platform.", ["Equipment"]),
    ("Configure software interfaces between laboratory instruments and the batch system.", ["Equipment"]),
]


def build_needs(cycle, *, levels=("Professional & Delivery", "Operational Leadership"), proficiencies=None):
    """Accepted capabilities with consensus proficiencies per role level (DelphiItem.consensus_value).

    ``proficiencies[level_index][capability_index]`` overrides the default pattern; 0 = not needed.
    """
    partners = {}
    for order, name in enumerate(["Logistics", "Hospital", "Equipment"], start=1):
        partners[name], _ = SupplyChainPartner.objects.get_or_create(cycle=cycle, name=name, defaults={"order": order})
    role_levels = [
        RoleLevel.objects.get_or_create(cycle=cycle, name=name, defaults={"order": n})[0]
        for n, name in enumerate(levels)
    ]
    capabilities = []
    for n, (statement, partner_names) in enumerate(STATEMENTS, start=1):
        cap = Capability.objects.create(
            cycle=cycle, ref=f"C{n:02d}", statement=statement, status=Capability.Status.ACCEPTED
        )
        cap.partners.set([partners[p] for p in partner_names])
        capabilities.append(cap)
    for li, level in enumerate(role_levels):
        for ci, cap in enumerate(capabilities):
            if proficiencies is not None:
                value = proficiencies[li][ci]
            else:
                value = (ci + li) % 4  # a mix of 0–3, so some items are not needed
            DelphiItem.objects.create(
                cycle=cycle, capability=cap, role_level=level, consensus_value=value, outcome="consensus"
            )
    return role_levels, capabilities


def make_fop(
    cycle,
    *,
    capabilities,
    role_level=None,
    name="Validation Engineer",
    status=FOP.Status.PROPOSED,
    reviewers=(),
    source=FOP.Source.MANUAL,
    proficiency=2,
) -> FOP:
    """A FOP made through the services (its history verifies), optionally assigned for review."""
    fop = fop_create(
        cycle=cycle,
        actor=None,
        name=name,
        role_level=role_level,
        entries={c.pk: proficiency for c in capabilities},
        source=source,
        status=status,
    )
    if reviewers:
        fop_assign_reviewers(fop=fop, actor=None, reviewers=reviewers)
        fop.refresh_from_db()
    return fop

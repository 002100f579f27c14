"""What a findings page with nothing to show says: why, and the step of the cycle that fills it.

A page's builder names what it lacks (``PageData.missing``, a key of ``STEPS``); the view turns it
into an ``EmptyState`` for the viewer: a link to the step when their role does it there, else who
does. Builders stay free of URLs and roles, so the CSV, the workbook and the report read the same
``PageData`` as the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from cycles.access import Access
from cycles.models import Cycle, Role


@dataclass(frozen=True)
class Step:
    why: str  # what the cycle lacks, said as a fact
    action: str  # the link's text, for a role that does the step
    url_name: str  # the page of the step (takes the cycle's slug)
    roles: tuple[str, ...]  # who does it there
    who: str  # said instead of the link to everyone else
    query: str = ""


STEPS: dict[str, Step] = {
    "capabilities": Step(
        "No capability statement has been captured for this cycle yet.",
        "Open the capture board",
        "workshops:capture",
        (Role.CONVENER, Role.TECHNOLOGIST),
        "Technologists submit capability statements on the capture board during Carry out, and the convener "
        "reviews them.",
    ),
    "classification": Step(
        "None of this cycle's capabilities is classified to a function yet, so they all count as Unclassified.",
        "Classify them on the capture board",
        "workshops:capture",
        (Role.CONVENER,),
        "The convener classifies each capability (function, domain, area) on the capture board.",
        query="?status=all",
    ),
    "partners": Step(
        "This cycle has no supply-chain partners yet.",
        "Add the supply-chain partners",
        "cycles:partners",
        (Role.CONVENER,),
        "The convener sets the cycle's supply-chain partners in Prepare.",
    ),
    "partner_links": Step(
        "No capability is linked to a supply-chain partner yet.",
        "Assign partners on the capture board",
        "workshops:capture",
        (Role.CONVENER,),
        "Partners are chosen when a statement is submitted, or assigned by the convener on the capture board.",
        query="?status=all",
    ),
    "consensus": Step(
        "No proficiency has been agreed yet: proficiencies come from the Delphi rounds and the ratified FOPs.",
        "Go to the Delphi rounds",
        "workshops:delphi",
        (Role.CONVENER,),
        "The convener opens the Delphi rounds, in which technologists and employers vote the proficiencies.",
    ),
    "fops": Step(
        "This cycle has no future occupational profiles (FOPs) yet.",
        "Propose the FOPs",
        "workshops:fops",
        (Role.CONVENER,),
        "The convener proposes the FOPs from the Delphi consensus, and employers ratify them.",
    ),
    "tags": Step(
        "No capability has a Knowledge, Skill or Behaviour tag yet.",
        "Tag the capabilities",
        "workshops:tags",
        (Role.CONVENER, Role.EDUCATOR),
        "Educators tag each capability with the Knowledge, Skills and Behaviours a course must teach.",
    ),
    "actions": Step(
        "No action is in the plan yet.",
        "Add the first action",
        "findings:action_create",
        (Role.CONVENER,),
        "The convener adds the actions in Cause action: who acts, when, and what should result.",
    ),
}


@dataclass(frozen=True)
class EmptyState:
    why: str
    action: str = ""
    url: str = ""  # empty: the viewer does not do this step (``who`` says who does)
    who: str = ""


def empty_state(missing: str, cycle: Cycle, access: Access | None) -> EmptyState | None:
    """What the page says for ``missing`` to this viewer (``access`` None: a share link's reader)."""
    step = STEPS.get(missing)
    if step is None:
        return None
    if access is not None and access.can(*step.roles):
        return EmptyState(step.why, step.action, reverse(step.url_name, args=[cycle.slug]) + step.query)
    return EmptyState(step.why, who=step.who)

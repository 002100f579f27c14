"""Who may do what to a Future Occupational Profile (one policy for views, services and consumers).

- The convener changes any FOP that is not ratified (a ratified FOP is reopened first), assigns
  reviewers, creates, merges, splits and deletes.
- An employer changes only the FOPs assigned to them, and only while they are in review: adds and
  removes capabilities, uprates and downrates proficiencies, edits title and description, marks
  priority, ratifies or returns with a comment.
- Educators, technologists and observers read. Educators tag capabilities (see tag_policy), but
  never change proficiencies.
"""

from __future__ import annotations

from dataclasses import dataclass

from cycles.models import Role
from workshops.models import FOP

FOP_RATIFIED_LOCKED = "This FOP is ratified: reopen it for review before changing it."
NOT_ASSIGNED = "Only the employers assigned to review this FOP may change it, and only while it is in review."
ROLE_CANNOT_EDIT = "Your role in this cycle does not allow changing FOPs."
EDUCATORS_NO_PROFICIENCY = "Educators tag capabilities with KSBs; they cannot change proficiencies."


@dataclass(frozen=True)
class FOPAbilities:
    view: bool = False
    edit: bool = False  # title, description, priority, capabilities and proficiencies
    review: bool = False  # ratify or return
    manage: bool = False  # assign reviewers, reopen, merge, split, delete, create
    reason: str = ""


def fop_abilities(*, role: str | None, user, fop: FOP, reviewer_ids: set[int] | None = None) -> FOPAbilities:
    """What ``user`` (with ``role`` in the FOP's cycle; None for the system) may do to ``fop``."""
    if role is None and user is None:  # the system: imports, proposal runs
        return FOPAbilities(view=True, edit=True, review=True, manage=True)
    if role is None:
        return FOPAbilities(reason=ROLE_CANNOT_EDIT)
    locked = fop.status == FOP.Status.RATIFIED
    if role == Role.CONVENER:
        return FOPAbilities(view=True, edit=not locked, manage=True, reason=FOP_RATIFIED_LOCKED if locked else "")
    if role == Role.EMPLOYER:
        if reviewer_ids is None:
            reviewer_ids = set(fop.reviewers.values_list("id", flat=True))
        assigned = user is not None and user.pk in reviewer_ids
        if assigned and fop.status == FOP.Status.IN_REVIEW:
            return FOPAbilities(view=True, edit=True, review=True)
        return FOPAbilities(view=True, reason=FOP_RATIFIED_LOCKED if (assigned and locked) else NOT_ASSIGNED)
    if role == Role.EDUCATOR:
        return FOPAbilities(view=True, reason=EDUCATORS_NO_PROFICIENCY)
    return FOPAbilities(view=True, reason=ROLE_CANNOT_EDIT)

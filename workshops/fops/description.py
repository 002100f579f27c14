"""The drafted description of a FOP: one text builder for the proposal run and for every later edit.

A proposed FOP gets a description drafted from its strongest capabilities ("A <level> role that
must be able to ... (Expert); ... and ... (Practitioner)."). When its capabilities, proficiencies
or role level change afterwards (an employer removes a capability, uprates another; the convener
merges or splits), the services draft it again, so it never lists a removed capability or an old
proficiency. A description a person wrote (typed in the edit form, created by hand, imported from
a published report) is theirs and is never replaced.

Which is which is read from the FOP's history, so no column is needed: the description is drafted
when the last entry that changed its text was written by the builder (a proposal run's ``propose``
snapshot or a ``describe`` entry), and a person's when it was anything else.

Pure text here (``draft_description``, ``strongest``): matching.proposals calls the same builder
with its own ranking (embeddings), workshops ranks by proficiency then reference.
"""

from __future__ import annotations

from collections.abc import Iterable

from workshops.fops.history import SNAPSHOT

PROFICIENCY_LABEL = {1: "Awareness", 2: "Practitioner", 3: "Expert"}
STRONGEST = 3  # how many capabilities a drafted description names

# History actions whose description text came from the builder.
DRAFTED_ACTIONS = frozenset({"propose", "describe"})
DESCRIBE_ACTION = "describe"  # the history entry of a description drafted again after an edit
DESCRIBE_REASON = "Description drafted again from the FOP's capabilities"


def _statement_clause(statement: str) -> str:
    text = " ".join(statement.split()).rstrip(".;, ")
    return text[:1].lower() + text[1:] if text else text


def draft_description(level_name: str | None, strongest: Iterable[tuple[str, int]]) -> str:
    """'A <level> role that must be able to ... (Expert); ...' from its strongest capabilities,
    given as (statement, proficiency) in the order to name them; "" without any."""
    parts = [f"{_statement_clause(s)} ({PROFICIENCY_LABEL[prof]})" for s, prof in strongest]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
    role = f"A {level_name} role" if level_name else "A role"
    return f"{role} that must be able to {joined}."


def strongest(entries: Iterable[tuple[str, str, int]], limit: int = STRONGEST) -> list[tuple[str, int]]:
    """The capabilities to name, from (ref, statement, proficiency): highest proficiency first,
    then by reference, so the same FOP always reads the same."""
    ranked = sorted(entries, key=lambda e: (-e[2], e[0]))
    return [(statement, proficiency) for _, statement, proficiency in ranked[:limit]]


def description_for(fop) -> str:
    """The description the builder drafts for the FOP as it is now."""
    rows = fop.entries.select_related("capability").values_list(
        "capability__ref", "capability__statement", "proficiency"
    )
    level = fop.role_level.name if fop.role_level_id else None
    return draft_description(level, strongest(rows))


def description_is_drafted(fop) -> bool:
    """True when the FOP's description text was last set by the builder, not by a person."""
    drafted, text, first = False, None, True
    for action, field, after in fop.history.order_by("created_at", "id").values_list("action", "field", "after"):
        if field == SNAPSHOT:
            new = (after or {}).get("description", "")
        elif field == "description":
            new = after or ""
        else:
            continue
        if first or new != text:
            drafted = action in DRAFTED_ACTIONS
        text, first = new, False
    return drafted

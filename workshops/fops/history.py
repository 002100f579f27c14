"""The FOP history as a hash chain, and the FOP state it must replay to.

Every change to a FOP is one ``FOPChange``: who (a name frozen at the time), when, what (action and
field), before, after and why. Each entry's ``hash`` is sha256(prev_hash + canonical JSON of the
entry), and ``FOP.history_hash`` holds the newest hash, so an edited, inserted or deleted entry
breaks the chain. Replaying the entries from the first (a full snapshot) must also give the FOP's
current state, so a change made behind the services' back (no history entry) shows as well.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from workshops.models import FOP, FOPChange

SNAPSHOT = "*"  # field of an entry whose ``after`` is the whole state (creation, merge)
ENTRY_PREFIX = "entries."  # field of an entry that sets or removes one capability's proficiency


def fop_state(fop: FOP) -> dict:
    """The recorded state of a FOP: what its history must replay to."""
    entries = {str(cap_id): prof for cap_id, prof in fop.entries.values_list("capability_id", "proficiency")}
    return {
        "name": fop.name,
        "description": fop.description,
        "role_level": fop.role_level_id,
        "priority": fop.priority,
        "status": fop.status,
        "status_comment": fop.status_comment,
        "reviewers": sorted(fop.reviewers.values_list("id", flat=True)),
        "entries": dict(sorted(entries.items(), key=lambda kv: int(kv[0]))),
    }


def canonical(change: FOPChange) -> str:
    created = change.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    payload = {
        "fop": change.fop_id,
        "actor": change.actor_name,
        "action": change.action,
        "field": change.field,
        "before": change.before,
        "after": change.after,
        "reason": change.reason,
        "created_at": created,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def change_hash(change: FOPChange) -> str:
    return hashlib.sha256((change.prev_hash + canonical(change)).encode("utf-8")).hexdigest()


def apply(state: dict, change: FOPChange) -> dict:
    if change.field == SNAPSHOT:
        return json.loads(json.dumps(change.after))
    state = dict(state)
    if change.field.startswith(ENTRY_PREFIX):
        entries = dict(state.get("entries") or {})
        key = change.field[len(ENTRY_PREFIX) :]
        if change.after is None:
            entries.pop(key, None)
        else:
            entries[key] = change.after
        state["entries"] = dict(sorted(entries.items(), key=lambda kv: int(kv[0])))
    elif change.field:
        state[change.field] = change.after
    return state

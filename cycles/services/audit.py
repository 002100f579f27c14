"""The audit trail: the one writer of audit events, for every app.

Every change to a cycle's phases, people, set-up, capabilities, rounds, FOPs, tags and findings is
recorded here, inside the service's transaction so it commits with the change.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from cycles.models import AuditEvent, Cycle


def audit_record(
    *, cycle: Cycle | int, actor: User | None, verb: str, summary: str, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Write one audit event for ``cycle`` (the cycle or its id). An anonymous or missing actor is
    recorded as no one (the system), never as a user row that does not exist."""
    return AuditEvent.objects.create(
        cycle_id=cycle if isinstance(cycle, int) else cycle.pk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        summary=summary[:400],
        detail=detail or {},
    )

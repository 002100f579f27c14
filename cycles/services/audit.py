"""The audit trail: every change to a cycle's phases, people and set-up is recorded here."""

from __future__ import annotations

from typing import Any

from cycles.models import AuditEvent, Cycle


def audit_record(*, cycle: Cycle, actor, verb: str, summary: str, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Write one audit event. Called inside the service's transaction so it commits with the change."""
    return AuditEvent.objects.create(
        cycle=cycle,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        summary=summary[:400],
        detail=detail or {},
    )

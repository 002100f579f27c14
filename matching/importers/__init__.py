"""Framework importers: parse a source completely, then write it in one transaction.

Each parser returns a ``ParsedFramework``; ``save_framework`` writes it as a new version beside
any earlier ones (or does nothing when a version with the same checksum is already there). A
malformed source raises ``FrameworkImportError`` naming the record and field, before anything is
written; the database is unchanged.
"""

from __future__ import annotations

from matching.importers.base import (
    FrameworkImportError,
    ImportOutcome,
    ParsedFramework,
    import_framework,
    save_framework,
)

__all__ = ["FrameworkImportError", "ImportOutcome", "ParsedFramework", "import_framework", "save_framework"]

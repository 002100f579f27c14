"""CSV cells that are safe to open in a spreadsheet.

A cell a member typed that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return)
would run as a formula in Excel or LibreOffice (CSV injection). Every CSV the workshops app writes
passes its cells through ``csv_safe``; an import of a file we wrote undoes it with ``csv_unsafe``.
(findings/exports.py does the same for the findings downloads.)
"""

from __future__ import annotations

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """The cell neutralised with a leading apostrophe if a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_unsafe(value: str) -> str:
    """Undo ``csv_safe`` when a file this product wrote is imported again."""
    if value.startswith("'") and value[1:].startswith(CSV_FORMULA_PREFIXES):
        return value[1:]
    return value

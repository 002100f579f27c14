"""Cells that are safe to open in a spreadsheet: the one formula guard for every CSV and XLSX.

A cell a member typed that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return)
would run as a formula in Excel or LibreOffice (CSV injection). Every CSV and workbook the product
writes passes its cells through ``cell_safe``; an import of a file it wrote undoes that with
``cell_unsafe``.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> Any:
    """The cell neutralised with a leading apostrophe if a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell_unsafe(value: str) -> str:
    """Undo ``cell_safe`` when a file this product wrote is imported again."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value

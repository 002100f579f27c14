"""The shapes every findings page returns, and the one place cells are formatted.

A page's HTML table, its CSV, its XLSX sheet, the export command and the report all read the
same ``PageData`` built by one function, and every cell goes through ``Column.text`` (or
``Column.value`` for a typed spreadsheet cell), so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PERCENT_KINDS = {"pct"}
NUMBER_KINDS = {"int", "pct", "float"}


def fmt_pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _label_key(label: str) -> str:
    return " ".join(label.split()).lower()


def unique_labels(labels: Iterable[str]) -> list[str]:
    """The column names with every repeat numbered ("Fit %", "Fit % (2)"); an empty name becomes
    "Column N". Compared ignoring case and spacing, as Excel does; a number never takes a name that
    another column already has."""
    labels = [str(label) for label in labels]
    taken = {_label_key(label) for label in labels}
    seen: set[str] = set()
    out = []
    for i, label in enumerate(labels, start=1):
        name = label if label.strip() else f"Column {i}"
        if _label_key(name) in seen:
            n = 2
            while _label_key(f"{name} ({n})") in seen | taken:
                n += 1
            name = f"{name} ({n})"
        seen.add(_label_key(name))
        out.append(name)
    return out


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | float | pct | list | bool
    sortable: bool = True
    phone: bool = True  # False: left out on a phone's narrow screen (the page's point stays in view)

    @property
    def numeric(self) -> bool:
        return self.kind in NUMBER_KINDS

    def value(self, row: Mapping[str, Any]) -> Any:
        """The typed cell (numbers stay numbers for spreadsheets)."""
        raw = row.get(self.key)
        if raw is None:
            return None
        if self.kind == "pct":
            return round(float(raw), 1)
        if self.kind == "float":
            return round(float(raw), 3)
        if self.kind == "int":
            return int(raw)
        if self.kind == "list":
            return "; ".join(str(v) for v in raw)
        if self.kind == "bool":
            return "Yes" if raw else "No"
        return raw

    def text(self, row: Mapping[str, Any]) -> str:
        """The cell as shown on the page and written to CSV."""
        value = self.value(row)
        if value is None:
            return ""
        if self.kind == "pct":
            return fmt_pct(value)
        if self.kind == "float":
            return f"{value:.3f}"
        return str(value)

    def sort_key(self, row: Mapping[str, Any]):
        value = self.value(row)
        if self.numeric:
            return (value is None, value if value is not None else 0)
        return (value in (None, ""), str(value or "").lower())


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    empty_message: str = "Nothing to show for these filters."
    searchable: bool = True  # summary tables (a row per function, partner...) ignore the search text

    @property
    def header(self) -> list[str]:
        """The column names, each unique (the page, the CSV, the workbook and ``frame`` agree)."""
        return unique_labels(c.label for c in self.columns)

    def text_rows(self) -> list[list[str]]:
        return [[c.text(row) for c in self.columns] for row in self.rows]

    def value_rows(self) -> list[list[Any]]:
        return [[c.value(row) for c in self.columns] for row in self.rows]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.value_rows(), columns=self.header)


@dataclass
class Filter:
    name: str
    label: str
    kind: str  # select | multi | number | search
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    help: str = ""

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list | tuple):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]

    all_label = "All"  # what a multi filter with nothing ticked means

    @property
    def summary(self) -> str:
        """What a multi filter's closed list says is chosen: "All", one or two names, or "3 chosen"."""
        chosen = [label for value, label in self.choices if value in self.values]
        if not chosen:
            return self.all_label
        return ", ".join(chosen) if len(chosen) <= 2 else f"{len(chosen)} chosen"


@dataclass
class Figure:
    label: str
    value: Any
    note: str = ""


@dataclass
class PageData:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    notice: str = ""
    needs_match_run: bool = False  # matching data missing: the page says so and links to a match run
    missing: str = ""  # what else the cycle lacks for this page: a key of findings.empty_states.STEPS
    extra: dict = field(default_factory=dict)

    def table(self, key: str | None = None) -> Table | None:
        if not self.tables:
            return None
        if key is None:
            return self.tables[0]
        return next((t for t in self.tables if t.key == key), None)

    def params(self) -> dict[str, Any]:
        """The filter values in force, to rebuild exactly this view (downloads, share links)."""
        return {f.name: f.value for f in self.filters if f.value not in (None, "", [])}


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    group: str  # industry | workforce | provision
    description: str
    builder: Callable[..., PageData]
    uses_matching: bool = False


class Params:
    """Read-only view over request.GET (or a plain dict) with typed getters."""

    def __init__(self, data: Mapping[str, Any] | None = None):
        self._data = data or {}

    def get(self, name: str, default: str = "") -> str:
        raw = self._data.get(name, default)
        if isinstance(raw, list | tuple):
            raw = raw[-1] if raw else default
        return str(raw).strip() if raw is not None else default

    def get_list(self, name: str) -> list[str]:
        if hasattr(self._data, "getlist"):
            values = self._data.getlist(name)
        else:
            raw = self._data.get(name)
            values = raw if isinstance(raw, list | tuple) else ([] if raw in (None, "") else [raw])
        return [str(v).strip() for v in values if str(v).strip()]

    def get_int(self, name: str) -> int | None:
        try:
            return int(self.get(name))
        except ValueError:
            return None

    def get_float(self, name: str) -> float | None:
        try:
            return float(self.get(name).replace("%", ""))
        except ValueError:
            return None


def apply_search_and_sort(table: Table, params: Params) -> None:
    """Filter the table's rows by the search text and sort them by the chosen column, in place."""
    query = params.get("q").lower()
    if query:
        table.rows = [
            row for row in table.rows if any(query in c.text(row).lower() for c in table.columns if not c.numeric)
        ]
    sort = params.get("sort")
    column = table.column(sort) if sort else None
    if column is not None and column.sortable:
        # Empty cells stay at the bottom whichever way the column is sorted.
        filled = [row for row in table.rows if column.text(row) != ""]
        empty = [row for row in table.rows if column.text(row) == ""]
        filled.sort(key=column.sort_key, reverse=params.get("dir") == "desc")
        table.rows = filled + empty

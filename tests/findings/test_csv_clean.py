"""Every CSV the product writes opens cleanly: a plain table of exactly the page's rows and columns.

`pandas.read_csv` (and Excel) read a CSV download into the same rows and columns as the page: a
header row, then the rows, with no caption or attribution lines after them and no two columns of
the same name. The filters and the data attribution travel beside the tables: the workbook's About
sheet and the README.txt of a zipped export.
"""

import io
import zipfile
from html.parser import HTMLParser

import pandas as pd
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.spreadsheets import cell_safe
from findings.exports import ATTRIBUTION, csv_zip_bytes, table_csv, unique_labels, workbook_bytes
from findings.tables import PAGES, build_page
from findings.tables.base import Column, PageData, Table
from tests.findings.conftest import client_for
from workshops.delphi.selectors import consensus_results
from workshops.models import FOP
from workshops.tags.selectors import tag_frequency_table


class PageTables(HTMLParser):
    """Every <table> of a page as header cells and body rows (the cells' text)."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._part = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"id": dict(attrs).get("id") or dict(attrs).get("data-table"), "head": [], "rows": []})
        elif tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if self._part == "thead":
                table["head"] = self._row
            else:
                table["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(response) -> list[dict]:
    parser = PageTables()
    parser.feed(response.content.decode())
    return parser.tables


def read_csv(response) -> pd.DataFrame:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    return pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)


def assert_plain(frame: pd.DataFrame) -> None:
    """No duplicate names (pandas would have renamed them "X.1"), no caption or attribution rows."""
    assert len(set(frame.columns)) == len(frame.columns)
    assert not any(str(c).startswith("Unnamed:") for c in frame.columns)
    cells = " ".join(" ".join(row) for row in frame.astype(str).values.tolist())
    assert "Data sources" not in cells and "Open Government Licence" not in cells


# --- the column names -----------------------------------------------------------------------------


def test_repeated_column_names_get_a_number_and_never_take_an_existing_name():
    assert unique_labels(["Ref", "Fit %", "Fit %"]) == ["Ref", "Fit %", "Fit % (2)"]
    assert unique_labels(["A", "a", "A", "A (2)"]) == ["A", "a (3)", "A (4)", "A (2)"]
    assert unique_labels(["Ref", "", "Total"]) == ["Ref", "Column 2", "Total"]
    assert unique_labels(["Ref", "Statement"]) == ["Ref", "Statement"]


def _duplicate_table() -> Table:
    return Table(
        "t",
        "Two columns of the same name",
        [Column("ref", "Ref"), Column("a", "Fit %", "pct"), Column("b", "Fit %", "pct")],
        [{"ref": "C1", "a": 10.0, "b": 20.0}, {"ref": "C2", "a": None, "b": 5.0}],
    )


def test_a_table_with_repeated_names_downloads_with_unique_columns_in_csv_and_xlsx(mini):
    table = _duplicate_table()
    frame = pd.read_csv(io.StringIO(table_csv(table)))
    assert list(frame.columns) == ["Ref", "Fit %", "Fit % (2)"]
    assert frame.shape == (2, 3)
    assert frame["Fit % (2)"].tolist() == [20.0, 5.0]
    page = PageData("p", "A page", tables=[table])
    sheets = pd.read_excel(io.BytesIO(workbook_bytes(mini["cycle"], [page])), sheet_name=None)
    assert list(sheets)[0] == "About"
    assert list(list(sheets.values())[1].columns) == ["Ref", "Fit %", "Fit % (2)"]


def test_two_fops_of_the_same_name_give_two_distinct_matrix_columns(mini, mini_people):
    f1, f2, _f3 = mini["fops"]
    FOP.objects.filter(pk=f2.pk).update(name=f1.name, role_level=f1.role_level, priority=f1.priority)
    client = client_for(mini_people["convener"])
    page = tables_of(client.get("/cycles/mini/findings/fop_matrix/"))
    shown = next(t for t in page if t["id"] == "matrix")
    frame = read_csv(client.get("/cycles/mini/findings/fop_matrix/download.csv"))
    assert_plain(frame)
    assert frame.shape == (len(shown["rows"]), len(shown["head"]))
    assert list(frame.columns) == unique_labels(shown["head"])
    sheets = pd.read_excel(io.BytesIO(client.get("/cycles/mini/findings/fop_matrix/download.xlsx").content), None)
    assert list(list(sheets.values())[1].columns) == unique_labels(shown["head"])


# --- findings downloads ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", [p.key for p in PAGES])
def test_each_findings_csv_reads_into_the_page_table(mini, mini_people, key):
    client = client_for(mini_people["convener"])
    shown = {t["id"]: t for t in tables_of(client.get(f"/cycles/mini/findings/{key}/")) if t["id"]}
    data = build_page(key, mini["cycle"], {})
    for table in data.tables:
        if not table.rows:
            continue
        frame = read_csv(client.get(f"/cycles/mini/findings/{key}/download.csv", {"table": table.key}))
        assert_plain(frame)
        page = shown[table.key]
        assert frame.shape == (len(page["rows"]), len(page["head"])), table.key
        assert list(frame.columns) == [cell_safe(h) for h in unique_labels(page["head"])], table.key
        assert frame.values.tolist() == [[cell_safe(c) for c in row] for row in table.text_rows()], table.key


def test_the_zipped_csvs_are_plain_tables_and_the_readme_carries_filters_and_attribution(mini):
    pages = [build_page(p.key, mini["cycle"], {}) for p in PAGES]
    archive = zipfile.ZipFile(io.BytesIO(csv_zip_bytes(mini["cycle"], pages)))
    tables = {f"mini-{p.key}" if t is p.tables[0] else f"mini-{p.key}-{t.key}": t for p in pages for t in p.tables}
    names = [n for n in archive.namelist() if n.endswith(".csv")]
    assert sorted(names) == sorted(f"{stem}.csv" for stem in tables)
    for name in names:
        table = tables[name.removesuffix(".csv")]
        frame = pd.read_csv(io.StringIO(archive.read(name).decode("utf-8")), dtype=str, keep_default_na=False)
        assert_plain(frame)
        assert frame.shape == (len(table.rows), len(table.columns)), name
    readme = archive.read("README.txt").decode("utf-8")
    assert "Mini cycle" in readme
    for name, licence in ATTRIBUTION:
        assert name in readme and licence in readme
    assert all(f"- {name}:" in readme for name in names)
    assert "Filters:" in readme


def test_the_page_filters_and_attribution_are_on_the_workbook_about_sheet(mini, mini_people):
    client = client_for(mini_people["convener"])
    response = client.get("/cycles/mini/findings/fop_matrix/download.xlsx", {"priority": "1"})
    about = load_workbook(io.BytesIO(response.content))["About"]
    text = " ".join(str(c) for row in about.iter_rows(values_only=True) for c in row if c)
    assert "Mini cycle" in text and "FOP matrix" in text
    assert "Filters" in text and "Priority" in text
    for name, licence in ATTRIBUTION:
        assert name in text and licence in text


# --- the workshops' CSV downloads ------------------------------------------------------------------


def test_the_delphi_results_csv_has_a_row_per_result_on_the_page(mini, mini_people):
    client = client_for(mini_people["observer"])
    page = tables_of(client.get(reverse("workshops:delphi_results", args=["mini"])))
    frame = read_csv(client.get(reverse("workshops:delphi_results_csv", args=["mini"])))
    assert_plain(frame)
    results = consensus_results(cycle=mini["cycle"])
    assert len(page[0]["rows"]) == len(results) == frame.shape[0] == 8
    # Each of the page's rows, in the same order: its capability and role level.
    assert [f"{r[0]}|{r[1]}" for r in frame[["capability_ref", "role_level"]].values.tolist()] == [
        f"{row['capability'].ref}|{row['role_level'].name}" for row in results
    ]
    assert [row[0].split(" ", 1)[0] for row in page[0]["rows"]] == frame["capability_ref"].tolist()


def test_the_tag_frequency_csv_is_the_page_tables_one_under_the_other(mini, mini_people):
    client = client_for(mini_people["observer"])
    url = reverse("workshops:tag_frequency", args=["mini"])
    page = [t for t in tables_of(client.get(url)) if (t["id"] or "").startswith("frequency-")]
    frame = read_csv(client.get(url, {"format": "csv"}))
    assert_plain(frame)
    assert list(frame.columns) == ["Kind", "Tag", "Capabilities", "Published"]
    tables = tag_frequency_table(cycle=mini["cycle"])
    page_rows = [(t["label"], row[0], row[1]) for t, shown in zip(tables, page, strict=True) for row in shown["rows"]]
    page_rows = [r for r in page_rows if r[2].isdigit()]  # not the "No ... tags yet" line
    assert [tuple(r) for r in frame[["Kind", "Tag", "Capabilities"]].values.tolist()] == page_rows
    assert frame.shape == (len(page_rows), 4)


def test_the_capabilities_csv_is_a_plain_table_of_every_statement(mini, mini_people):
    client = client_for(mini_people["observer"])
    frame = read_csv(client.get(reverse("workshops:capabilities_export", args=["mini"])))
    assert_plain(frame)
    assert frame.shape[0] == mini["cycle"].capabilities.count() == 7
    assert frame["ref"].tolist() == [f"C{i}" for i in range(1, 8)]
    assert frame.loc[4, "statement"] == "'" + '=HYPERLINK("http://x") Maintain equipment qualification.'


def test_the_taxonomy_csv_is_a_plain_table(mini, mini_people):
    from workshops.capture.taxonomy import COLUMNS, taxonomy_export_rows

    frame = read_csv(client_for(mini_people["observer"]).get(reverse("workshops:taxonomy_export")))
    assert_plain(frame)
    assert list(frame.columns) == COLUMNS
    assert frame.shape == (len(taxonomy_export_rows()) - 1, len(COLUMNS))

"""Each CSV and XLSX download equals the table its page shows, under the same filters."""

import csv
import io
from html.parser import HTMLParser

import pandas as pd
import pytest
from openpyxl import load_workbook

from core.spreadsheets import cell_safe
from findings.exports import ATTRIBUTION, unique_labels
from findings.tables import PAGES, build_page
from tests.findings.builders import POC


class TableParser(HTMLParser):
    """Collects every <table data-table="..."> of a page as header + rows of cell text."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._current = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._current = self.tables.setdefault(attrs["data-table"], [])
        elif self._current is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._current.append(self._row)
            self._row = None
        elif tag == "table":
            self._current = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: bytes) -> dict[str, list[list[str]]]:
    parser = TableParser()
    parser.feed(html.decode())
    return parser.tables


def csv_table(content: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    return [[" ".join(cell.split()) for cell in row] for row in rows]


def unquote(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


CASES = [(POC, p.key, {}) for p in PAGES] + [
    (POC, "fop_matrix", {"priority": "1"}),
    (POC, "functions", {"function": ["Design", "Support"], "q": "data"}),
    (POC, "fop_distribution", {"sort": "ref", "dir": "desc"}),
]


@pytest.mark.parametrize(("slug", "key", "params"), CASES)
def test_each_csv_equals_the_table_its_page_shows(demo, convener_client, slug, key, params):
    page = convener_client.get(f"/cycles/{slug}/findings/{key}/", params)
    shown = page_tables(page.content)
    data = build_page(key, demo[slug], params)
    assert set(shown) == {t.key for t in data.tables if t.rows}
    for table in data.tables:
        if not table.rows:
            continue
        response = convener_client.get(f"/cycles/{slug}/findings/{key}/download.csv", {**params, "table": table.key})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        exported = [[unquote(c) for c in row] for row in csv_table(response.content)]
        header, *rows = shown[table.key]
        assert exported == [unique_labels(header), *rows], table.key
        frame = pd.read_csv(io.StringIO(response.content.decode("utf-8")))
        assert frame.shape == (len(rows), len(header)), table.key
        assert list(frame.columns) == [cell_safe(h) for h in unique_labels(header)], table.key


@pytest.mark.parametrize(("slug", "key", "params"), CASES)
def test_each_xlsx_holds_the_page_tables_with_numbers_as_numbers(demo, convener_client, slug, key, params):
    data = build_page(key, demo[slug], params)
    response = convener_client.get(f"/cycles/{slug}/findings/{key}/download.xlsx", params)
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames[0] == "About"
    sheets = wb.sheetnames[1:]
    assert len(sheets) == len(data.tables)
    for sheet, table in zip(sheets, data.tables, strict=True):
        values = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
        assert values[0] == unique_labels(table.header)
        # A spreadsheet keeps no empty strings: an empty cell reads back as None.
        expected = [[None if v == "" else cell_safe(v) for v in row] for row in table.value_rows()]
        assert values[1:] == expected


def test_the_attribution_and_filters_are_in_the_about_sheet_not_in_the_csv(demo, convener_client):
    params = {"function": ["Design"], "q": "data"}
    text = convener_client.get(f"/cycles/{POC}/findings/functions/download.csv", params).content.decode()
    for name, licence in ATTRIBUTION:
        assert name not in text and licence not in text
    assert "Filters" not in text and demo[POC].title not in text
    response = convener_client.get(f"/cycles/{POC}/findings/functions/download.xlsx", params)
    wb = load_workbook(io.BytesIO(response.content))
    about = " ".join(str(c) for row in wb["About"].iter_rows(values_only=True) for c in row if c)
    assert "Open Government Licence v3.0" in about and "CC BY 4.0" in about and "ESCO" in about
    assert demo[POC].title in about and "Function: Design" in about
    # Every table sheet is named on the About sheet.
    assert all(sheet in about for sheet in wb.sheetnames[1:])


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x"])
def test_cells_that_could_run_as_formulas_are_neutralised(value):
    assert cell_safe(value) == "'" + value
    assert cell_safe("Design") == "Design"
    assert cell_safe(3) == 3


def test_a_formula_in_a_statement_is_neutralised_in_csv_and_xlsx(mini, mini_people):
    from tests.findings.conftest import client_for

    client = client_for(mini_people["convener"])
    csv_text = client.get("/cycles/mini/findings/functions/download.csv", {"table": "capabilities"}).content.decode()
    assert "'=HYPERLINK" in csv_text
    assert "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text
    wb = load_workbook(io.BytesIO(client.get("/cycles/mini/findings/functions/download.xlsx").content))
    statements = [row[1] for row in wb.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert any(str(s).startswith("'=HYPERLINK") for s in statements)
    assert not any(str(s).startswith("=") for s in statements)


def test_an_unknown_format_or_table_is_not_found(demo, convener_client):
    assert convener_client.get(f"/cycles/{POC}/findings/overview/download.pdf").status_code == 404
    assert convener_client.get(f"/cycles/{POC}/findings/overview/download.csv", {"table": "nope"}).status_code == 404
    assert convener_client.get(f"/cycles/{POC}/findings/nope/").status_code == 404

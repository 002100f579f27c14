"""Every findings table, built by the one builder the pages, their downloads and the report use.

``findings.tables.build_page(key, cycle, params)`` makes a page's tables; the JSON rows are
``Column.value`` of each cell (numbers stay numbers, as in the workbook) and the CSV is
``findings.exports.table_csv`` — the page's *Download CSV*, every cell through the one formula
guard (``core.spreadsheets.cell_safe``). Filters, search and sorting are the page's own query
parameters, so an API answer is exactly the table on screen.
"""

import enum
from typing import Annotated, Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.pagination import paginate

from api.common import REFUSALS, Mapped, Pages, Slug, member
from api.schemas import Cell, FindingsPageOut, FindingsPageRef, TableRow
from findings.exports import file_stem, table_csv
from findings.tables import PAGES, PageData, Table, build_page

router = Router(tags=["findings"])
NO_SUCH_TABLE = "This findings page has no such table."
PageKey = enum.Enum("PageKey", {page.key: page.key for page in PAGES}, type=str)
# The API's own (pagination), not the page's: left out of what the page builder is given.
OWN_PARAMS = ("limit", "offset")
FILTERS = (
    "Any of the page's filters (its `filters`, e.g. `role_level`, `fop`, `partner`) may be added as query "
    "parameters, as on the page."
)


def _params(request: HttpRequest) -> dict:
    params = request.GET.copy()
    for name in OWN_PARAMS:
        params.pop(name, None)
    return params


def _page(request: HttpRequest, slug: str, key: PageKey):
    access = member(request, slug)
    return access.cycle, build_page(key.value, access.cycle, _params(request))


def _table(data: PageData, key: str) -> Table:
    table = data.table(key)
    if table is None:
        raise Http404(NO_SUCH_TABLE)
    return table


def _text(value) -> str:
    return "" if value is None else str(value)


def _filter_value(value):
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value if value is None or isinstance(value, int | float | str) else str(value)


def _cell(value) -> Cell:
    return value if value is None or isinstance(value, int | float | str) else str(value)


def page_out(data: PageData) -> dict:
    return {
        "key": data.key,
        "title": data.title,
        "notice": data.notice or "",
        "missing": data.missing or "",
        "needs_match_run": data.needs_match_run,
        "figures": [{"label": f.label, "value": _cell(f.value), "note": f.note or ""} for f in data.figures],
        "filters": [
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "choices": [[_text(value), _text(label)] for value, label in f.choices],
                "value": _filter_value(f.value),
            }
            for f in data.filters
        ],
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "columns": [
                    {"key": c.key, "label": label, "kind": c.kind} for c, label in zip(t.columns, t.header, strict=True)
                ],
                "rows": len(t.rows),
            }
            for t in data.tables
        ],
    }


# The query parameters every findings page reads, under the page's own names (its filters come on top).
Search = Annotated[str, Query(description="Search the tables' text.")]
Sort = Annotated[str, Query(description="A column key to sort by.")]
Direction = Annotated[Literal["asc", "desc"], Query(description="Sort direction.")]
FindingsThreshold = Annotated[float | None, Query(ge=0, le=100, description="Match threshold, 0–1 or a percentage.")]


@router.get(
    "/cycles/{slug}/findings",
    response={200: list[FindingsPageRef], **REFUSALS},
    summary="The findings pages",
)
@paginate(Pages)
def findings_pages(request: HttpRequest, slug: Slug):
    member(request, slug)
    return Mapped(
        PAGES,
        lambda p: {
            "key": p.key,
            "title": p.title,
            "group": p.group,
            "description": p.description,
            "uses_matching": p.uses_matching,
        },
    )


@router.get(
    "/cycles/{slug}/findings/{key}",
    response={200: FindingsPageOut, **REFUSALS},
    summary="One findings page: figures, filters and its tables' columns",
    description=FILTERS,
)
def findings_page(
    request: HttpRequest,
    slug: Slug,
    key: PageKey,
    q: Search = "",
    threshold: FindingsThreshold = None,
):
    _, data = _page(request, slug, key)
    return page_out(data)


@router.get(
    "/cycles/{slug}/findings/{key}/tables/{table}",
    response={200: list[TableRow], **REFUSALS},
    summary="A findings table's rows",
    description="Each row keyed by column key (the page's `tables[].columns`). " + FILTERS,
)
@paginate(Pages)
def findings_table(
    request: HttpRequest,
    slug: Slug,
    key: PageKey,
    table: str,
    q: Search = "",
    sort: Sort = "",
    dir: Direction = "asc",
    threshold: FindingsThreshold = None,
):
    _, data = _page(request, slug, key)
    found = _table(data, table)
    return Mapped(found.rows, lambda row: {c.key: _cell(c.value(row)) for c in found.columns})


@router.get(
    "/cycles/{slug}/findings/{key}/tables/{table}/csv",
    response=REFUSALS,
    summary="A findings table as CSV",
    description="Exactly the page's *Download CSV*: a header row, then the rows; a text cell that a spreadsheet "
    "would run as a formula starts with an apostrophe. " + FILTERS,
    openapi_extra={
        "responses": {
            200: {"description": "The table as CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}}
        }
    },
)
def findings_table_csv(
    request: HttpRequest,
    slug: Slug,
    key: PageKey,
    table: str,
    q: Search = "",
    sort: Sort = "",
    dir: Direction = "asc",
    threshold: FindingsThreshold = None,
):
    cycle, data = _page(request, slug, key)
    found = _table(data, table)
    response = HttpResponse(table_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_stem(cycle, data, found)}.csv"'
    return response

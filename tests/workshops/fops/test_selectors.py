"""The FOP matrix is read in a fixed number of queries, whatever the number of FOPs and rows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workshops.fops.factories import build_needs, make_fop
from workshops.fops.selectors import fop_matrix
from workshops.models import PROFICIENCY_CODES


def count_queries(cycle, **filters) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fop_matrix(cycle=cycle, **filters)
    return len(ctx.captured_queries)


def test_the_matrix_costs_the_same_number_of_queries_for_two_or_twenty_fops(personas):
    levels, caps = build_needs(personas.cycle)
    for n in range(2):
        make_fop(personas.cycle, capabilities=caps[n : n + 3], role_level=levels[0], name=f"FOP {n}")
    few = count_queries(personas.cycle)
    for n in range(2, 20):
        make_fop(personas.cycle, capabilities=caps[n % 9 : n % 9 + 3], role_level=levels[n % 2], name=f"FOP {n}")
    assert count_queries(personas.cycle) == few
    assert count_queries(personas.cycle, role_level_id=levels[0].pk, partner_id=caps[0].partners.first().pk) <= few


def test_matrix_cells_are_the_proficiency_codes_and_empty_rows_are_hidden(personas):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:2], role_level=levels[0], proficiency=3)
    matrix = fop_matrix(cycle=personas.cycle)
    assert [row.capability.ref for row in matrix.rows] == ["C01", "C02"]
    assert matrix.rows[0].cells == [PROFICIENCY_CODES[3]] and matrix.fops == [fop]
    assert matrix.hidden_rows == 7
    assert len(fop_matrix(cycle=personas.cycle, hide_empty=False).rows) == 9

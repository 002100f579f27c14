"""On PostgreSQL a vote is one statement (one round trip, one commit); on SQLite the same answers."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workshops.delphi.factories import start_delphi
from workshops.delphi import services
from workshops.delphi.services import ROUND_NOT_OPEN, DelphiError, round_close, vote_cast
from workshops.models import Vote, VoteReceipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def classic(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2)


def _inserted_columns(table: str) -> set[str]:
    match = re.search(rf"INSERT INTO {table} \(([^)]*)\)", services._CAST)
    return {column.strip() for column in match.group(1).split(",")}


@pytest.mark.parametrize("model", [Vote, VoteReceipt])
def test_the_one_statement_writes_every_column_of_votes_and_receipts(model):
    # A column added to the model must be added to the hand-written statement too.
    columns = {f.column for f in model._meta.concrete_fields if not f.primary_key}
    assert _inserted_columns(model._meta.db_table) == columns


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # autocommit, as a server runs it: no savepoint around the vote
def test_a_vote_and_its_resend_are_one_statement_each(personas, classic):
    item = classic.items[0].pk
    with CaptureQueriesContext(connection) as first:
        ack = vote_cast(
            round_id=classic.round.pk, panellist=personas.technologist, item_id=item, value=2, client_id="a"
        )
    # What follows the statement are the broadcast's reads (sent at once here: no event loop).
    sql = [q["sql"] for q in first.captured_queries]
    assert sql[0].startswith("WITH ctx AS") and all(q.startswith("SELECT") for q in sql[1:]), sql
    again = vote_cast(round_id=classic.round.pk, panellist=personas.technologist, item_id=item, value=3, client_id="a")
    assert again == ack  # answered with the first acknowledgement, nothing changed
    assert list(Vote.objects.filter(round=classic.round).values_list("value", flat=True)) == [2]
    classic.round.refresh_from_db()
    assert classic.round.sequence == 1


def test_a_vote_after_the_close_is_refused_and_stores_nothing(personas, classic):
    round_close(round_id=classic.round.pk, actor=personas.convener)
    with pytest.raises(DelphiError) as refused:
        vote_cast(round_id=classic.round.pk, panellist=personas.technologist, item_id=classic.items[0].pk, value=1)
    assert refused.value.message == ROUND_NOT_OPEN
    assert not Vote.objects.filter(round=classic.round).exists()

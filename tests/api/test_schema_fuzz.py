"""Schemathesis fuzzes every operation of the served OpenAPI schema, with a real token.

The schema is read from the running application (``/api/v1/openapi.json`` through Django's WSGI
handler, in the test's own database transaction), then each operation gets generated requests —
valid ones, and (in a second pass) ones the schema forbids — sent with the convener's token of the
rich cycle, its slug, FOP and match run put in their paths half of the time so requests reach the
data and not only the 404. Every answer must be a non-5xx that the schema describes (status code,
content type, body, headers). It runs on SQLite and PostgreSQL alike (``.ci/run`` runs both), and
no Hypothesis database or cache is kept in the checkout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode

from api.services import api_token_create
from matching.models import MatchRun
from tests.portability.fixtures import build_rich_cycle
from workshops.models import FOP

SCHEMA = "/api/v1/openapi.json"
# Requests per operation: enough to reach every parameter's edges, few enough for well under a minute.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 4}
# Hypothesis caches (its character tables, constants) go to the temporary folder, not the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "foresight-hypothesis")
FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


# "Invalid data was accepted" is not a fault here: the real token, slug and ids put into a request
# undo some of the invalid parts the negative pass generates, and unknown query parameters are
# ignored by design (a findings table passes its page's own filters through, as the page does).
# 5xx and answers outside the schema are checked in both passes.
EXCLUDED = [schemathesis.checks.negative_data_rejection]


@pytest.fixture
def fuzz_world(personas):
    cycle = build_rich_cycle(personas)
    _, token = api_token_create(user=personas.convener, name="fuzz", lifetime_days=None)
    return {
        "token": token,
        "slug": cycle.slug,
        "fop_id": FOP.objects.filter(cycle=cycle).first().pk,
        "run_id": MatchRun.objects.filter(cycle=cycle).first().pk,
    }


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, kept on the test's database connection.

    A real request closes the connection when it ends, which would end the test's transaction
    (on PostgreSQL) between two requests; Django's own test client holds these signals off the
    same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", list(EXAMPLES))
def test_no_request_the_schema_allows_gets_a_5xx_or_an_answer_outside_the_schema(fuzz_world, wsgi_app, mode):
    schema = schemathesis.openapi.from_wsgi(SCHEMA, wsgi_app)
    operations = _operations(schema)
    assert len(operations) == 14
    failures, sent = [], 0
    for operation in operations:

        @settings(FUZZ, max_examples=EXAMPLES[mode])
        @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
        def fuzz(case, real):
            nonlocal sent
            if real:
                for name in ("slug", "fop_id", "run_id"):
                    if case.path_parameters and name in case.path_parameters:
                        case.path_parameters[name] = fuzz_world[name]
            sent += 1
            case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_world['token']}"}, excluded_checks=EXCLUDED)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is fuzzed, all failures reported together
            failures.append(f"{operation.label}: {exc}"[:2000])
    assert failures == [], "\n\n".join(failures)
    assert sent >= len(operations) * EXAMPLES[mode] // 2

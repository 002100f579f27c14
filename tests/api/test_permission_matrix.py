"""Every API URL × every role's token, checked against the table in tests/api/matrix.py.

The URL list comes from the URL configuration and the operations from the served OpenAPI schema,
so an endpoint added without a row fails ``test_every_api_url_has_a_row``.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from api.main import api
from tests.api.matrix import FORBIDDEN, NOT_FOUND, OK, ROLES, ROWS, UNAUTHORIZED
from tests.security.test_permission_matrix import url_names, world  # noqa: F401 - the fixture

NAMESPACE = "api:v1:"


def api_url_names() -> list[str]:
    return [name for name in url_names() if name.startswith(NAMESPACE)]


def classify(response) -> str:
    return {200: OK, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND}.get(
        response.status_code, f"status {response.status_code}"
    )


def test_every_api_url_has_a_row():
    missing = [name for name in api_url_names() if name not in ROWS]
    assert missing == [], "These API URLs have no row in tests/api/matrix.py: " + ", ".join(missing)


def test_the_matrix_has_no_rows_for_api_urls_that_are_gone():
    assert [name for name in ROWS if name not in set(api_url_names())] == []


def test_every_operation_in_the_schema_is_a_row():
    schema = api.get_openapi_schema()
    operations = [(path, method) for path, item in schema["paths"].items() for method in item]
    assert len(operations) == len([row for row in ROWS.values() if row.operation])
    assert {method for _, method in operations} == {"get"}, "the API only reads"


def test_every_row_says_what_happens_to_every_role():
    assert [name for name, row in ROWS.items() if set(row.expect) != set(ROLES)] == []


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_the_role_as_the_matrix_says(world, api_client, role):  # noqa: F811
    client = api_client(role)
    mismatches = []
    for name in api_url_names():
        row = ROWS[name]
        response = client.get(reverse(name, kwargs=row.kwargs(world)))
        actual = classify(response)
        if actual != row.expect[role]:
            mismatches.append(f"GET {name:36} expected {row.expect[role]:4} got {actual}")
        elif row.operation and actual != OK:
            # A refusal says why, as JSON, and never names the cycle it refuses.
            body = json.loads(response.content)
            assert set(body) == {"detail"} and world.slug not in body["detail"], (name, body)
    assert mismatches == [], f"{role}:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_endpoint_changes_anything(world, api_client, method):  # noqa: F811
    client = api_client("convener")
    for name in api_url_names():
        row = ROWS[name]
        if row.operation:
            response = getattr(client, method)(reverse(name, kwargs=row.kwargs(world)))
            assert response.status_code == 405, (method, name)

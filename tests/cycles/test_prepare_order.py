"""Prepare lists: a new row's "Order" starts empty, and an empty order puts the row at the end.

Issue 13, stumble 3: the order was pre-filled with 0 although the help says "empty: at the end",
so every partner and role level a convener added showed "# 0".
"""

import re

import pytest
from django.urls import reverse

from cycles.models import RoleLevel, SupplyChainPartner

KINDS = {
    "partners": (SupplyChainPartner, lambda n: {"name": f"Partner {n}", "description": ""}),
    "role_levels": (
        RoleLevel,
        lambda n: {"name": f"Level {n}", "description": "", "academic_level_min": "3", "academic_level_max": "5"},
    ),
}


def order_input(html: str) -> str:
    match = re.search(r"<input[^>]*name=\"order\"[^>]*>", html)
    assert match, "the form has an Order field"
    return match.group(0)


def order_cells(html: str) -> list[str]:
    # The first cell of each row of the list is its order ("#").
    return re.findall(r"<tr id=\"(?:partner|role_level)-\d+\">\s*<td>([^<]*)</td>", html)


@pytest.mark.parametrize("kind", KINDS)
def test_the_add_form_leaves_the_order_empty(personas, kind):
    client = personas.client_for(personas.convener)
    html = client.get(reverse(f"cycles:{kind}", args=[personas.cycle.slug])).content.decode()
    field = order_input(html)
    assert 'value="0"' not in field
    assert "value=" not in field or 'value=""' in field
    assert "empty: at the end" in html


@pytest.mark.parametrize("kind", KINDS)
def test_rows_added_without_an_order_go_to_the_end(personas, kind):
    model, data = KINDS[kind]
    client = personas.client_for(personas.convener)
    url = reverse(f"cycles:{kind}", args=[personas.cycle.slug])
    for n in range(1, 4):
        html = client.get(url).content.decode()
        # Send the order exactly as the form offers it (what a person does who leaves it alone).
        value = re.search(r'value="([^"]*)"', order_input(html))
        response = client.post(url, {**data(n), "order": value.group(1) if value else ""})
        assert response.status_code == 302, response.content.decode()[:500]
    html = client.get(url).content.decode()
    assert order_cells(html) == ["1", "2", "3"]
    names = list(model.objects.filter(cycle=personas.cycle).order_by("order").values_list("name", flat=True))
    assert names == [data(n)["name"] for n in range(1, 4)]


@pytest.mark.parametrize("kind", KINDS)
def test_an_order_given_is_kept_and_the_edit_form_shows_it(personas, kind):
    model, data = KINDS[kind]
    client = personas.client_for(personas.convener)
    url = reverse(f"cycles:{kind}", args=[personas.cycle.slug])
    assert client.post(url, {**data(1), "order": "7"}).status_code == 302
    item = model.objects.get(cycle=personas.cycle, name=data(1)["name"])
    assert item.order == 7
    edit = reverse(f"cycles:{kind[:-1]}_edit", args=[personas.cycle.slug, item.pk])
    assert 'value="7"' in order_input(client.get(edit).content.decode())
    # Emptying the order of an existing row keeps its place.
    assert client.post(edit, {**data(1), "order": ""}).status_code == 302
    item.refresh_from_db()
    assert item.order == 7

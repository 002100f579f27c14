"""No API answer carries an individual answer, a rationale or who answered, to anyone.

The panel of tests/security/test_anonymity.py (five panellists, a marker rationale per vote) is read
through every endpoint — every findings page, each of its tables as JSON and as CSV — with every
role's token. The API lists aggregates only, so no marker and no panellist's name or email may
appear at all (but the caller's own, in ``/me``).
"""

from __future__ import annotations

from django.urls import reverse

from findings.tables import PAGES, build_page
from tests.api.matrix import MEMBERS, OK, OUTSIDER, ROWS
from tests.api.test_permission_matrix import api_url_names
from tests.security.test_anonymity import panel  # noqa: F401 - the fixture
from tests.security.test_permission_matrix import world  # noqa: F401 - the fixture


def _urls(world, cycle) -> list[str]:  # noqa: F811
    """Every operation of the matrix, then every findings page and each of its tables, JSON and CSV."""
    urls = [reverse(name, kwargs=ROWS[name].kwargs(world)) for name in api_url_names() if ROWS[name].operation]
    for page in PAGES:
        urls.append(reverse("api:v1:findings_page", args=[world.slug, page.key]))
        for table in build_page(page.key, cycle, {}).tables:
            urls.append(reverse("api:v1:findings_table", args=[world.slug, page.key, table.key]) + "?limit=500")
            urls.append(reverse("api:v1:findings_table_csv", args=[world.slug, page.key, table.key]))
    return urls


def test_no_endpoint_shows_an_answer_a_rationale_or_who_gave_it(world, personas, panel, api_client):  # noqa: F811
    urls = _urls(world, personas.cycle)
    problems, read = [], 0
    for role in (*MEMBERS, OUTSIDER):
        client = api_client(role)
        viewer = personas.outsider if role == OUTSIDER else getattr(personas, role)
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                assert role == OUTSIDER, (role, url, response.status_code)
                continue
            read += 1
            text = response.content.decode()
            if "ANON-" in text:
                problems.append(f"{role} {url}: a rationale")
            for voter in panel["voters"]:
                if voter.pk == viewer.pk:
                    continue
                for identity in (voter.email, voter.display_name):
                    if identity and identity in text:
                        problems.append(f"{role} {url}: {identity}")
    assert problems == [], problems[:20]
    assert read > 5 * len(urls) - 1 and ROWS["api:v1:delphi_results"].expect["technologist"] == OK

"""core.pages: the one login_required for every app's views, htmx-aware."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# One page of each app that has views: all go through core.pages.login_required.
PAGES = [
    ("cycles:timeline", ["cycle-a"]),
    ("workshops:delphi", ["cycle-a"]),
    ("workshops:fops", ["cycle-a"]),
    ("workshops:tags", ["cycle-a"]),
    ("matching:runs", ["cycle-a"]),
    ("findings:exports", ["cycle-a"]),
    ("accounts:profile", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_an_expired_session_on_an_htmx_request_navigates_to_the_login_page_and_back(personas, name, args):
    current = "/cycles/cycle-a/findings/?page=fit&threshold=0.6"  # the page the fragment lives on
    response = personas.client_for(None).get(
        reverse(name, args=args), headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{current}"}
    )
    assert response.status_code == 200 and "<form" not in response.content.decode()  # no login form swapped in
    target = urlsplit(response["HX-Redirect"])
    assert target.path == reverse("accounts:login")
    assert parse_qs(target.query)["next"] == [current]  # its whole query string survives


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_an_anonymous_page_request_is_sent_to_the_login_page(personas, name, args):
    response = personas.client_for(None).get(reverse(name, args=args))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))

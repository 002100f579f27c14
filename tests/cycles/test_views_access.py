"""Who sees what, for every page of the cycles app: convener of A, technologist of A, member of B, anonymous.

Each row: a page, then what each persona gets. 200 allowed, 403 wrong role, 404 not a member of the
cycle, "login" redirect to the login page. The htmx column names the partial's root id: an htmx
request to the same URL returns only that fragment.
"""

import pytest
from django.urls import reverse

from cycles.models import Workshop
from tests.cycles.factories import InvitationFactory, SolutionFactory
from tests.factories import RoleLevelFactory, SupplyChainPartnerFactory, WorkshopFactory

pytestmark = pytest.mark.django_db

ALL = {"convener": 200, "technologist": 200, "outsider": 404, "anonymous": "login"}
CONVENER_ONLY = {"convener": 200, "technologist": 403, "outsider": 404, "anonymous": "login"}

PAGES = [
    # (url name, needs an object, expected per persona, htmx fragment id or None)
    ("cycles:cycle_detail", None, ALL, "phase-panel"),
    ("cycles:cycle_edit", None, CONVENER_ONLY, None),
    ("cycles:timeline", None, ALL, "timeline"),
    ("cycles:timeline_phase", "phase", CONVENER_ONLY, "phase-row-3"),
    ("cycles:members", None, CONVENER_ONLY, "member-list"),
    ("cycles:invite", None, CONVENER_ONLY, "invite-form"),
    ("cycles:invite_bulk", None, CONVENER_ONLY, "bulk-form"),
    ("cycles:audit", None, {**CONVENER_ONLY}, "events"),
    ("cycles:solutions", None, ALL, "solution-section"),
    ("cycles:solution_rate", None, ALL, "rating-list"),
    ("cycles:solution_results", None, ALL, "results-table"),
    ("cycles:partners", None, ALL, "section"),
    ("cycles:partner_edit", "partner", CONVENER_ONLY, "edit-form"),
    ("cycles:role_levels", None, ALL, "section"),
    ("cycles:role_level_edit", "role_level", CONVENER_ONLY, "edit-form"),
    ("cycles:workshops", None, ALL, "section"),
    ("cycles:workshop_edit", "workshop", CONVENER_ONLY, "edit-form"),
    ("cycles:cycle_calendar", None, ALL, None),
    ("cycles:workshop_calendar", "workshop", ALL, None),
]


@pytest.fixture
def objects(personas):
    cycle = personas.cycle
    return {
        "phase": 3,
        "partner": SupplyChainPartnerFactory(cycle=cycle).pk,
        "role_level": RoleLevelFactory(cycle=cycle).pk,
        "workshop": WorkshopFactory(cycle=cycle, kind=Workshop.Kind.TECHNOLOGIST).pk,
    }


def url_for(name, needs, objects, slug="cycle-a"):
    args = [slug] + ([objects[needs]] if needs else [])
    return reverse(name, args=args)


def client_for(personas, who):
    return personas.client_for(None if who == "anonymous" else getattr(personas, who))


@pytest.mark.parametrize(("name", "needs", "expected", "fragment"), PAGES, ids=[p[0] for p in PAGES])
@pytest.mark.parametrize("who", ["convener", "technologist", "outsider", "anonymous"])
def test_each_page_answers_each_persona_as_expected(personas, objects, name, needs, expected, fragment, who):
    url = url_for(name, needs, objects)
    if name == "cycles:timeline_phase":
        url += "?edit=1"
    response = client_for(personas, who).get(url)
    want = expected[who]
    if want == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == want


@pytest.mark.parametrize(
    ("name", "needs", "expected", "fragment"), [p for p in PAGES if p[3]], ids=[p[0] for p in PAGES if p[3]]
)
def test_an_htmx_request_gets_only_the_fragment(personas, objects, name, needs, expected, fragment):
    url = url_for(name, needs, objects)
    if name == "cycles:timeline_phase":
        url += "?edit=1"
    response = personas.client_for(personas.convener).get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<nav" not in html.split('id="messages"')[0]
    assert f'id="{fragment}"' in html
    full = personas.client_for(personas.convener).get(url).content.decode()
    assert "<html" in full and f'id="{fragment}"' in full


def test_an_anonymous_htmx_request_is_told_to_navigate_to_the_login_page(personas):
    response = personas.client_for(None).get(
        reverse("cycles:timeline", args=["cycle-a"]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_the_observer_reads_the_audit_log_but_the_technologist_does_not(personas):
    url = reverse("cycles:audit", args=["cycle-a"])
    assert personas.client_for(personas.observer).get(url).status_code == 200
    assert personas.client_for(personas.technologist).get(url).status_code == 403


def test_an_observer_cannot_rate_solutions(personas):
    response = personas.client_for(personas.observer).get(reverse("cycles:solution_rate", args=["cycle-a"]))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("cycles:phase_advance", None),
        ("cycles:phase_reopen", None),
        ("cycles:membership_role", "membership"),
        ("cycles:membership_remove", "membership"),
        ("cycles:invitation_revoke", "invitation"),
        ("cycles:invitation_resend", "invitation"),
        ("cycles:solution_prioritise", "solution"),
        ("cycles:partner_delete", "partner"),
        ("cycles:role_level_delete", "role_level"),
        ("cycles:workshop_delete", "workshop"),
        ("cycles:partners", None),
        ("cycles:role_levels", None),
        ("cycles:workshops", None),
    ],
)
def test_convener_actions_are_refused_to_others_and_change_nothing(personas, objects, name, needs):
    from cycles.models import AuditEvent, Membership

    objects = dict(objects)
    objects["membership"] = Membership.objects.get(cycle=personas.cycle, user=personas.employer).pk
    objects["invitation"] = InvitationFactory(cycle=personas.cycle).pk
    objects["solution"] = SolutionFactory(cycle=personas.cycle).pk
    url = url_for(name, needs, objects)
    data = {"role": "observer", "phase": "1", "prioritised": "1", "name": "X"}
    assert personas.client_for(personas.technologist).post(url, data).status_code == 403
    assert personas.client_for(personas.outsider).post(url, data).status_code == 404
    anonymous = personas.client_for(None).post(url, data)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    assert not AuditEvent.objects.exists()


def test_objects_of_another_cycle_are_not_found_through_this_cycle(personas):
    partner_b = SupplyChainPartnerFactory(cycle=personas.other_cycle)
    url = reverse("cycles:partner_edit", args=["cycle-a", partner_b.pk])
    assert personas.client_for(personas.convener).get(url).status_code == 404


def test_creating_a_cycle_is_for_conveners_and_staff(personas):
    url = reverse("cycles:cycle_create")
    assert personas.client_for(personas.convener).get(url).status_code == 200
    assert personas.client_for(personas.outsider).get(url).status_code == 200  # convenes cycle B
    assert personas.client_for(personas.technologist).get(url).status_code == 403
    assert personas.client_for(None).get(url).status_code == 302


@pytest.mark.parametrize("name", ["cycles:dashboard", "cycles:cycle_list"])
def test_personal_pages_need_a_login(personas, name):
    assert personas.client_for(None).get(reverse(name)).status_code == 302
    assert personas.client_for(personas.technologist).get(reverse(name)).status_code == 200


def test_the_about_page_is_public_and_names_the_data_sources(client):
    html = client.get(reverse("cycles:about")).content.decode()
    assert "Open Government Licence" in html and "O*NET" in html and "ESCO" in html


def test_the_cycle_list_shows_only_my_cycles(personas):
    html = personas.client_for(personas.technologist).get(reverse("cycles:cycle_list")).content.decode()
    assert "Cycle A" in html and "Cycle B" not in html

"""Every form control on the cycles pages has a label, every page one h1 and a language."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from cycles.models import Cycle, Phase
from tests.cycles.factories import InvitationFactory, SolutionFactory
from tests.factories import RoleLevelFactory, SupplyChainPartnerFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls, self.label_for, self.h1, self.lang = [], set(), 0, None
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit", "button"}:
            self.controls.append((tag, a, self._label_depth > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1

    def unlabelled(self):
        return [
            (tag, a.get("name") or a.get("id"))
            for tag, a, wrapped in self.controls
            if not wrapped
            and a.get("id") not in self.label_for
            and not a.get("aria-label")
            and not a.get("aria-labelledby")
        ]


PAGES = [
    ("cycles:dashboard", []),
    ("cycles:cycle_list", []),
    ("cycles:cycle_create", []),
    ("cycles:cycle_detail", ["cycle-a"]),
    ("cycles:cycle_edit", ["cycle-a"]),
    ("cycles:timeline", ["cycle-a"]),
    ("cycles:members", ["cycle-a"]),
    ("cycles:invite", ["cycle-a"]),
    ("cycles:invite_bulk", ["cycle-a"]),
    ("cycles:audit", ["cycle-a"]),
    ("cycles:solutions", ["cycle-a"]),
    ("cycles:solution_rate", ["cycle-a"]),
    ("cycles:solution_results", ["cycle-a"]),
    ("cycles:partners", ["cycle-a"]),
    ("cycles:role_levels", ["cycle-a"]),
    ("cycles:workshops", ["cycle-a"]),
]


@pytest.fixture
def furnished(personas):
    cycle = personas.cycle
    SolutionFactory(cycle=cycle)
    SupplyChainPartnerFactory(cycle=cycle)
    RoleLevelFactory(cycle=cycle)
    WorkshopFactory(cycle=cycle)
    InvitationFactory(cycle=cycle)
    Cycle.objects.filter(pk=cycle.pk).update(phase=Phase.IDENTIFY)
    return personas


@pytest.mark.parametrize(("name", "args"), PAGES, ids=[p[0] for p in PAGES])
def test_every_control_is_labelled_and_the_page_has_one_heading(furnished, name, args):
    response = furnished.client_for(furnished.convener).get(reverse(name, args=args))
    assert response.status_code == 200
    parser = Controls()
    parser.feed(response.content.decode())
    assert parser.unlabelled() == []
    assert parser.h1 == 1
    assert parser.lang == "en-GB"


def test_the_timeline_edit_row_and_the_invitation_page_are_labelled(furnished, client):
    html = (
        furnished.client_for(furnished.convener)
        .get(reverse("cycles:timeline_phase", args=["cycle-a", 3]) + "?edit=1")
        .content.decode()
    )
    parser = Controls()
    parser.feed(html)
    assert parser.controls and parser.unlabelled() == []
    invitation = InvitationFactory(cycle=furnished.cycle, email="label@example.test")
    parser = Controls()
    parser.feed(client.get(reverse("cycles:invitation_accept", args=[invitation.token])).content.decode())
    assert parser.controls and parser.unlabelled() == []

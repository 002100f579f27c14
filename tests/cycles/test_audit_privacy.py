"""The audit log shows observers what happened, not who was invited: personal data is for conveners.

Issue 13, stumble 10: an observer (a sponsor) read every invitee's email address in the audit log,
while the members page is forbidden to them.
"""

import re
from html import unescape

import pytest
from django.urls import reverse

from cycles import services
from cycles.models import Membership, Role
from cycles.services.audit import audit_record
from tests.factories import UserFactory

INVITEE = "dana.invitee@example.test"
BULK = ["eve@example.test", "frank@example.test"]


@pytest.fixture
def events(personas):
    cycle = personas.cycle
    services.invitation_create(cycle=cycle, email=INVITEE, role=Role.EMPLOYER, invited_by=personas.convener)
    audit_record(
        cycle=cycle,
        actor=personas.convener,
        verb="invitation.bulk_sent",
        summary="Invited 2 people from a CSV file",
        detail={"emails": BULK},
    )
    joiner = UserFactory(email="gina.joiner@example.test", display_name="Gina Joiner")
    Membership.objects.create(cycle=cycle, user=joiner, role=Role.EDUCATOR)
    audit_record(
        cycle=cycle,
        actor=joiner,
        verb="membership.joined",
        summary=f"{joiner} joined as Educator by invitation",
        detail={"user": joiner.email, "role": Role.EDUCATOR},
    )
    audit_record(
        cycle=cycle,
        actor=personas.convener,
        verb="membership.removed",
        summary=f"Removed {personas.employer} (Employer) from the cycle",
        detail={"user": personas.employer.email, "role": Role.EMPLOYER},
    )
    return {"joiner": joiner}


def audit_page(client, **params) -> str:
    response = client.get(reverse("cycles:audit", args=["cycle-a"]), params)
    assert response.status_code == 200
    return unescape(response.content.decode())


def rows(html: str) -> list[str]:
    body = html[html.index('<div id="events"') :]
    cells = re.findall(r"<tr><td[^>]*>.*?</td><td>(.*?)</td><td>(.*?)</td></tr>", body, flags=re.S)
    return [f"{who} | {what}" for who, what in cells]


def test_an_observer_sees_the_events_without_addresses_or_names(personas, events):
    html = audit_page(personas.client_for(personas.observer))
    assert "@" not in html.split('<div id="events"', 1)[1]
    for hidden in [INVITEE, *BULK, "gina.joiner", "Gina Joiner", personas.employer.display_name]:
        assert hidden not in html
    shown = rows(html)
    assert f"{personas.convener.display_name} | Invited an invitee as Employer" in shown
    assert "the member themselves | A member joined as Educator by invitation" in shown
    assert f"{personas.convener.display_name} | Removed a member (Employer) from the cycle" in shown
    assert f"{personas.convener.display_name} | Invited 2 people from a CSV file" in shown
    assert "shown to the cycle's conveners only" in html


def test_the_htmx_filter_masks_too(personas, events):
    response = personas.client_for(personas.observer).get(
        reverse("cycles:audit", args=["cycle-a"]), {"verb": "invitation"}, headers={"HX-Request": "true"}
    )
    html = unescape(response.content.decode())
    assert "Invited an invitee as Employer" in html and INVITEE not in html


def test_the_convener_still_sees_everything(personas, events):
    html = audit_page(personas.client_for(personas.convener))
    assert f"Invited {INVITEE} as Employer" in html
    assert "Gina Joiner joined as Educator by invitation" in html
    assert f"Removed {personas.employer.display_name} (Employer) from the cycle" in html
    assert "shown to the cycle's conveners only" not in html

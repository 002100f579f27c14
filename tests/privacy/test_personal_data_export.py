"""Everyone downloads their own personal data as JSON: all of their own, and nobody else's."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = "/privacy/my-data/"


def _download(personas, user) -> dict:
    response = personas.client_for(user).get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="my-foresight-data-')
    return json.loads(response.content)


def test_the_url_is_linked_from_everyones_profile(personas):
    assert reverse("privacy:my_data") == URL
    page = personas.client_for(personas.observer).get("/accounts/profile/").content.decode()
    assert f'href="{URL}"' in page and "Download your data" in page


def test_it_asks_to_log_in_first(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_employers_export_holds_their_answers_rationales_ratings_reviews_and_audit_entries(rich, personas):
    data = _download(personas, personas.employer)
    assert data["account"]["email"] == "employer@a.test" and data["account"]["stakeholder_group"] == "industry"
    assert [(m["cycle"], m["role"]) for m in data["memberships"]] == [("cycle-a", "employer")]
    answers = data["delphi_answers"]
    assert len(answers) == 7 and {a["round"] for a in answers} == {1, 2}
    assert all(a["rationale"] == "employer@a.test thinks 3" for a in answers if a["round"] == 1)
    assert [(r["impact"], r["feasibility"], r["comment"]) for r in data["solution_ratings"]] == [(4, 3, "Costly")]
    assert [c["action"] for c in data["fop_changes"]] == ["ratify"]
    assert [f["fop"] for f in data["fop_reviews"]] == ["Point-of-care technician"]
    assert data["tags_added"] == [] and data["match_reviews"] == []


def test_the_educators_export_holds_their_tags_and_match_reviews(rich, personas):
    data = _download(personas, personas.educator)
    assert sorted(t["tag"] for t in data["tags_added"]) == ["QA", "Quality assurance"]
    assert [r["decision"] for r in data["match_reviews"]] == ["confirm"]
    assert data["delphi_answers"] == []


def test_an_export_names_nobody_else(rich, personas):
    others = [personas.convener, personas.technologist, personas.educator, personas.observer, personas.outsider]
    raw = personas.client_for(personas.employer).get(URL).content.decode()
    for other in others:
        assert other.email not in raw and other.display_name not in raw, other
    assert "technologist@a.test thinks" not in raw  # another panellist's rationale


def test_audit_entries_about_a_person_say_you_never_who_else(rich, personas):
    from cycles.models import Membership
    from cycles.services.members import membership_change_role

    membership = Membership.objects.get(cycle=rich, user=personas.technologist)
    membership_change_role(membership=membership, role="educator", actor=personas.convener)
    data = _download(personas, personas.technologist)
    entry = next(e for e in data["audit_entries"] if e["verb"].startswith("membership"))
    assert entry["by"] == "another member" and personas.convener.email not in json.dumps(data)


def test_the_export_lists_the_persons_api_tokens_but_never_a_secret(rich, personas):
    from api.services import api_token_create

    _, secret = api_token_create(user=personas.employer, name="Power BI", lifetime_days=30)
    api_token_create(user=personas.educator, name="Someone else's", lifetime_days=None)
    data = _download(personas, personas.employer)
    assert [t["name"] for t in data["api_tokens"]] == ["Power BI"]
    assert secret not in json.dumps(data)


def test_the_export_lists_the_persons_sign_on_links(rich, personas):
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=personas.employer, provider="nhsmail", uid="emp-123", extra_data={"sub": "x"})
    SocialAccount.objects.create(user=personas.educator, provider="nhsmail", uid="edu-456")
    links = _download(personas, personas.employer)["sign_on_links"]
    assert [(link["provider"], link["uid"]) for link in links] == [("nhsmail", "emp-123")]

"""Erasing a person: the account anonymised, their answers kept as anonymous answers in their
stakeholder group (results, counts and attrition identical, also when computed again), the erasure
audited, and the person unrecoverable from pages, exports and the database."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.forms.models import model_to_dict

from accounts.models import User
from accounts.services import ERASED_NAME
from cycles.models import AuditEvent, Membership, Role
from privacy.services import ERASE_NOT_ALLOWED, ERASED_VERB, NOT_YOURSELF, person_erase
from tests.factories import MembershipFactory
from workshops.delphi.aggregation import round_aggregate
from workshops.delphi.selectors import consensus_results, round_progress_by_group
from workshops.fops.history import change_hash
from workshops.fops.selectors import fop_history_verify
from workshops.models import FOP, DelphiPlan, ItemResult, Round, Vote

pytestmark = pytest.mark.django_db


def _results(cycle) -> str:
    """Everything the cycle reports of its Delphi, as one canonical JSON text."""
    plan = DelphiPlan.objects.get(cycle=cycle)
    rounds = list(Round.objects.filter(cycle=cycle).order_by("number"))
    state = {
        "results": [
            {k: v for k, v in model_to_dict(r).items() if k != "id"}
            for r in ItemResult.objects.filter(round__cycle=cycle).order_by("round__number", "item_id")
        ],
        "summaries": [Round.objects.get(pk=r.pk).summary for r in rounds],
        "progress_by_group": [round_progress_by_group(rnd=r, plan=plan) for r in rounds],
        "consensus": consensus_results(cycle=cycle, is_convener=True),
        "answers": sorted(Vote.objects.filter(round__cycle=cycle).values_list("round__number", "item_id", "value")),
    }
    return json.dumps(state, sort_keys=True, default=str)


def _reaggregate(cycle) -> None:
    for rnd in Round.objects.filter(cycle=cycle).order_by("number"):
        round_aggregate(round_id=rnd.pk)


def test_results_counts_and_attrition_are_identical_after_erasure_and_after_computing_them_again(rich, personas):
    before = _results(rich)
    assert json.loads(before)["summaries"][1]["attrition"] == 1  # the technologist dropped out in round 2
    person_erase(person=personas.employer, actor=personas.convener)
    assert _results(rich) == before
    _reaggregate(rich)
    assert _results(rich) == before


def test_the_account_is_anonymised_keeps_its_group_and_can_no_longer_sign_in(rich, personas, client, password):
    erased = person_erase(person=personas.employer, actor=personas.convener)
    assert erased.display_name == ERASED_NAME and erased.email.endswith("@erased.invalid")
    assert erased.group == "industry" and erased.organisation.name == "Erased participants (Industry)"
    assert not erased.is_active and not erased.has_usable_password() and erased.erased_at is not None
    assert not client.login(email="employer@a.test", password=password)
    assert Membership.objects.get(cycle=rich, user=erased).role == Role.EMPLOYER  # still counted as panel


def test_the_erasure_is_recorded_in_the_audit_log_without_the_name(rich, personas):
    person_erase(person=personas.employer, actor=personas.convener)
    event = AuditEvent.objects.get(cycle=rich, verb=ERASED_VERB)
    assert event.actor == personas.convener and event.detail == {"user_id": personas.employer.pk}
    assert "employer" in event.summary and "Employer A" not in event.summary


def test_fop_histories_are_renamed_and_sealed_again(rich, personas):
    fop = FOP.objects.get(cycle=rich)
    person_erase(person=personas.employer, actor=personas.convener)
    fop.refresh_from_db()
    prev = ""
    for change in fop.history.order_by("created_at", "id"):
        assert change.prev_hash == prev and change.hash == change_hash(change)
        prev = change.hash
    assert fop.history_hash == prev
    assert fop_history_verify(fop=fop).bad_entry_id is None  # no entry breaks the chain
    names = list(fop.history.values_list("actor_name", flat=True))
    assert not any("employer@a.test" in n or "Employer A" in n for n in names)
    assert AuditEvent.objects.filter(cycle=rich, verb="fop.history_resealed", detail__fop=fop.pk).exists()


def test_the_person_is_unrecoverable_from_the_database(rich, personas):
    from cycles.services.members import membership_change_role

    membership_change_role(
        membership=Membership.objects.get(cycle=rich, user=personas.employer), role="educator", actor=personas.convener
    )
    person_erase(person=personas.employer, actor=personas.convener)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump, exclude=["contenttypes", "auth.permission", "sessions"])
    text = dump.getvalue()
    for trace in ("employer@a.test", "Employer A"):
        assert trace not in text, trace
    assert "Erased participant thinks 3" in text  # their rationale stays, without their address


def test_the_person_is_unrecoverable_from_pages_and_exports(rich, personas, tmp_path):
    person_erase(person=personas.employer, actor=personas.convener)
    convener = personas.client_for(personas.convener)
    # The pages that name people (the Delphi pages name nobody: tests/security/test_anonymity.py).
    pages = [
        f"/cycles/{rich.slug}/members/",
        f"/cycles/{rich.slug}/audit/",
        f"/cycles/{rich.slug}/privacy/",
        f"/cycles/{rich.slug}/fops/{FOP.objects.get(cycle=rich).pk}/",
        f"/cycles/{rich.slug}/solutions/results/",
        f"/cycles/{rich.slug}/actions/",
    ]
    for url in pages:
        response = convener.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "employer@a.test" not in body and "Employer A" not in body, url
    call_command("export_cycle", rich.slug, str(tmp_path / "cycle.json"))
    call_command("export_findings", rich.slug, "--out", str(tmp_path / "findings"))
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".csv"}:
            text = path.read_text(errors="replace")
            assert "employer@a.test" not in text and "Employer A" not in text, path


def test_a_convener_may_not_erase_someone_who_is_also_in_a_cycle_they_do_not_convene(rich, personas):
    MembershipFactory(cycle=personas.other_cycle, user=personas.technologist, role=Role.TECHNOLOGIST)
    with pytest.raises(PermissionDenied, match=ERASE_NOT_ALLOWED):
        person_erase(person=personas.technologist, actor=personas.convener)
    admin = User.objects.create_superuser("admin@a.test", "x")
    assert person_erase(person=personas.technologist, actor=admin).erased_at is not None


def test_nobody_erases_themselves_and_members_may_not_erase(rich, personas):
    with pytest.raises(PermissionDenied, match=NOT_YOURSELF):
        person_erase(person=personas.convener, actor=personas.convener)
    with pytest.raises(PermissionDenied):
        person_erase(person=personas.employer, actor=personas.technologist)


def test_the_convener_erases_from_the_confirmation_page(rich, personas):
    convener = personas.client_for(personas.convener)
    url = f"/cycles/{rich.slug}/privacy/erase/{personas.employer.pk}/"
    page = convener.get(url).content.decode()
    assert "Erase their personal data" in page
    response = convener.post(url)
    assert response.status_code == 302 and response["Location"] == f"/cycles/{rich.slug}/privacy/"
    assert User.objects.get(pk=personas.employer.pk).erased_at is not None
    assert convener.get(url).status_code == 404  # erased: nobody left to erase


def test_an_administrator_erases_from_the_user_list(rich, personas):
    admin = User.objects.create_superuser("admin@a.test", "x")
    client = personas.client_for(admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "erase_personal_data", "_selected_action": [personas.employer.pk]}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=personas.employer.pk).erased_at is not None


def test_the_persons_api_tokens_are_deleted(rich, personas):
    from api.models import ApiToken
    from api.services import api_token_create

    api_token_create(user=personas.employer, name="Dashboard", lifetime_days=None)
    person_erase(person=personas.employer, actor=personas.convener)
    assert not ApiToken.objects.filter(user=personas.employer).exists()

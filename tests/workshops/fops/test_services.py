"""FOP services: every change leaves a history entry, the chain shows tampering, and each persona
may change only what the method lets them."""

import pytest
from django.core.exceptions import PermissionDenied

from cycles.models import AuditEvent
from tests.workshops.fops.factories import build_needs, make_fop
from workshops.fops import services as svc
from workshops.fops.policy import EDUCATORS_NO_PROFICIENCY, NOT_ASSIGNED
from workshops.fops.selectors import (
    HISTORY_ALTERED,
    HISTORY_BROKEN,
    HISTORY_HEAD,
    HISTORY_STATE,
    fop_history_verify,
)
from workshops.models import FOP, FOPCapability, FOPChange


@pytest.fixture
def setup(personas):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:3], role_level=levels[0], reviewers=[personas.employer])
    return personas, levels, caps, fop


def entries_of(fop):
    return dict(FOPCapability.objects.filter(fop=fop).values_list("capability_id", "proficiency"))


def test_a_new_fop_starts_its_history_with_a_snapshot_that_verifies(setup):
    p, levels, caps, fop = setup
    first = fop.history.order_by("id").first()
    assert first.action == "create" and first.field == "*"
    assert first.after["entries"] == {str(c.pk): 2 for c in caps[:3]}
    assert fop_history_verify(fop=fop).ok


def test_assigning_reviewers_puts_the_fop_in_review(setup):
    p, levels, caps, fop = setup
    assert fop.status == FOP.Status.IN_REVIEW
    assert list(fop.reviewers.all()) == [p.employer]


def test_an_assigned_employer_uprates_and_ratifies_and_every_step_is_recorded(setup):
    p, levels, caps, fop = setup
    before = FOPChange.objects.filter(fop=fop).count()
    svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[0], proficiency=3, reason="Needs expert")
    svc.fop_add_capability(fop=fop, actor=p.employer, capability=caps[5], proficiency=1)
    svc.fop_remove_capability(fop=fop, actor=p.employer, capability=caps[1])
    svc.fop_update(
        fop=fop, actor=p.employer, name="Cold Chain Lead", description="Leads the cold chain.", priority=True
    )
    svc.fop_ratify(fop=fop, actor=p.employer, comment="Agreed")
    fop.refresh_from_db()
    assert fop.status == FOP.Status.RATIFIED and fop.name == "Cold Chain Lead" and fop.priority
    assert entries_of(fop) == {caps[0].pk: 3, caps[2].pk: 2, caps[5].pk: 1}
    history = list(FOPChange.objects.filter(fop=fop).order_by("id"))[before:]
    assert [h.action for h in history] == [
        "uprate",
        "add_capability",
        "remove_capability",
        "rename",
        "edit_description",
        "mark_priority",
        "ratify",
        "ratify",
    ]
    uprate = history[0]
    assert (uprate.before, uprate.after, uprate.reason) == (2, 3, "Needs expert")
    assert uprate.actor == p.employer and "employer@a.test" in uprate.actor_name
    assert fop_history_verify(fop=fop).ok


def test_a_reviewer_returns_a_fop_only_with_a_comment(setup):
    p, levels, caps, fop = setup
    with pytest.raises(svc.FOPError, match="comment is required"):
        svc.fop_return(fop=fop, actor=p.employer, comment="  ")
    svc.fop_return(fop=fop, actor=p.employer, comment="Split the logistics part out")
    fop.refresh_from_db()
    assert fop.status == FOP.Status.RETURNED and fop.status_comment == "Split the logistics part out"
    assert AuditEvent.objects.filter(cycle=p.cycle, verb="fop_returned").exists()
    assert fop_history_verify(fop=fop).ok


def test_an_employer_not_assigned_to_a_fop_changes_nothing(setup, django_user_model):
    p, levels, caps, fop = setup
    fop.reviewers.clear()  # set-up only
    with pytest.raises(PermissionDenied, match=NOT_ASSIGNED[:30]):
        svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[0], proficiency=3)
    with pytest.raises(PermissionDenied):
        svc.fop_ratify(fop=fop, actor=p.employer)
    assert entries_of(fop)[caps[0].pk] == 2


def test_an_assigned_employer_cannot_change_a_fop_that_is_not_in_review(personas):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:2], role_level=levels[0], reviewers=[personas.employer])
    svc.fop_ratify(fop=fop, actor=personas.employer)
    with pytest.raises(PermissionDenied):
        svc.fop_update(fop=fop, actor=personas.employer, name="Another name")
    fop.refresh_from_db()
    assert fop.name == "Validation Engineer"


def test_educators_cannot_change_proficiencies(setup):
    p, levels, caps, fop = setup
    with pytest.raises(PermissionDenied, match=EDUCATORS_NO_PROFICIENCY):
        svc.fop_set_proficiency(fop=fop, actor=p.educator, capability=caps[0], proficiency=3)
    with pytest.raises(PermissionDenied):
        svc.fop_add_capability(fop=fop, actor=p.educator, capability=caps[6], proficiency=1)
    assert entries_of(fop) == {c.pk: 2 for c in caps[:3]}


@pytest.mark.parametrize("who", ["observer", "technologist", "outsider"])
def test_observers_technologists_and_outsiders_change_nothing(setup, who):
    p, levels, caps, fop = setup
    actor = getattr(p, who)
    count = FOPChange.objects.count()
    for call in [
        lambda: svc.fop_set_proficiency(fop=fop, actor=actor, capability=caps[0], proficiency=3),
        lambda: svc.fop_update(fop=fop, actor=actor, name="X"),
        lambda: svc.fop_ratify(fop=fop, actor=actor),
        lambda: svc.fop_return(fop=fop, actor=actor, comment="no"),
        lambda: svc.fop_assign_reviewers(fop=fop, actor=actor, reviewers=[]),
        lambda: svc.fop_delete(fop=fop, actor=actor),
    ]:
        with pytest.raises(PermissionDenied):
            call()
    assert FOPChange.objects.count() == count


def test_a_ratified_fop_is_locked_until_the_convener_reopens_it(setup):
    p, levels, caps, fop = setup
    svc.fop_ratify(fop=fop, actor=p.employer)
    with pytest.raises(PermissionDenied, match="reopen"):
        svc.fop_update(fop=fop, actor=p.convener, name="Renamed")
    svc.fop_reopen(fop=fop, actor=p.convener, reason="New capability came up")
    fop.refresh_from_db()
    assert fop.status == FOP.Status.IN_REVIEW
    svc.fop_update(fop=fop, actor=p.convener, name="Renamed")
    assert fop_history_verify(fop=fop).ok


def test_reviewers_must_be_employers_of_the_cycle(setup):
    p, levels, caps, fop = setup
    with pytest.raises(svc.FOPError, match="must be employers"):
        svc.fop_assign_reviewers(fop=fop, actor=p.convener, reviewers=[p.educator])
    assert list(fop.reviewers.all()) == [p.employer]


def test_a_proficiency_outside_awareness_to_expert_is_refused(setup):
    p, levels, caps, fop = setup
    for bad in (0, 4, "x", None):
        with pytest.raises(svc.FOPError, match="Awareness"):
            svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[0], proficiency=bad)
    assert entries_of(fop)[caps[0].pk] == 2


def test_a_capability_of_another_cycle_cannot_join_a_fop(setup):
    p, levels, caps, fop = setup
    _, other_caps = build_needs(p.other_cycle)
    with pytest.raises(svc.FOPError, match="not an accepted capability of this cycle"):
        svc.fop_add_capability(fop=fop, actor=p.convener, capability=other_caps[0], proficiency=1)


def test_merging_unites_capabilities_at_the_higher_proficiency_and_records_what_was_merged(setup):
    p, levels, caps, fop = setup
    other = make_fop(p.cycle, capabilities=caps[2:5], role_level=levels[0], name="QA Officer", proficiency=3)
    merged = svc.fop_merge(cycle=p.cycle, actor=p.convener, fops=[fop, other], name="Quality and Cold Chain")
    assert not FOP.objects.filter(pk=other.pk).exists()
    assert entries_of(merged) == {caps[0].pk: 2, caps[1].pk: 2, caps[2].pk: 3, caps[3].pk: 3, caps[4].pk: 3}
    last = merged.history.order_by("-id").first()
    assert last.action == "merge" and str(other.pk) in last.before["merged"]
    assert fop_history_verify(fop=merged).ok


def test_splitting_moves_the_chosen_capabilities_into_a_new_fop(setup):
    p, levels, caps, fop = setup
    new = svc.fop_split(fop=fop, actor=p.convener, capability_ids=[caps[2].pk], new_name="Logistics Coordinator")
    assert entries_of(fop) == {caps[0].pk: 2, caps[1].pk: 2}
    assert entries_of(new) == {caps[2].pk: 2}
    assert new.role_level == levels[0]
    assert fop_history_verify(fop=fop).ok and fop_history_verify(fop=new).ok
    with pytest.raises(svc.FOPError, match="some, but not all"):
        svc.fop_split(fop=fop, actor=p.convener, capability_ids=[caps[0].pk, caps[1].pk], new_name="All")


def test_altering_a_stored_history_entry_is_detected(setup):
    p, levels, caps, fop = setup
    svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[0], proficiency=3)
    entry = fop.history.get(action="uprate")
    FOPChange.objects.filter(pk=entry.pk).update(after=1)
    check = fop_history_verify(fop=fop)
    assert not check.ok and check.bad_entry_id == entry.pk
    n = list(fop.history.order_by("id").values_list("pk", flat=True)).index(entry.pk) + 1
    assert check.problem == HISTORY_ALTERED.format(n=n)


def test_altering_who_made_a_change_is_detected(setup):
    p, levels, caps, fop = setup
    svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[0], proficiency=3)
    FOPChange.objects.filter(fop=fop, action="uprate").update(actor_name="Somebody Else <x@y.test>")
    assert not fop_history_verify(fop=fop).ok


def test_removing_an_entry_in_the_middle_or_at_the_end_is_detected(setup):
    p, levels, caps, fop = setup
    svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[0], proficiency=3)
    svc.fop_set_proficiency(fop=fop, actor=p.employer, capability=caps[1], proficiency=1)
    entries = list(fop.history.order_by("id"))
    entries[-1].delete()
    assert fop_history_verify(fop=fop).problem == HISTORY_HEAD
    entries[1].delete()
    assert fop_history_verify(fop=fop).problem == HISTORY_BROKEN.format(n=2)


def test_a_change_made_without_a_history_entry_is_detected(setup):
    p, levels, caps, fop = setup
    FOPCapability.objects.filter(fop=fop, capability=caps[0]).update(proficiency=3)
    assert fop_history_verify(fop=fop).problem == HISTORY_STATE


def test_deleting_a_fop_leaves_an_audit_event_with_its_last_state(setup):
    p, levels, caps, fop = setup
    svc.fop_delete(fop=fop, actor=p.convener, reason="Duplicate")
    event = AuditEvent.objects.get(cycle=p.cycle, verb="fop_deleted")
    assert event.detail["state"]["name"] == "Validation Engineer"
    assert not FOP.objects.filter(pk=fop.pk).exists()

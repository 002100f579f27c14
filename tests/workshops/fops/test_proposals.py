"""FOP proposals from consensus proficiencies, with the real embedding model on a small fixture."""

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from matching import proposals
from matching.importers import import_framework
from tests.matching.frameworks import write_esco
from tests.workshops.fops.factories import build_needs, make_fop
from workshops.fops import providers as fop_providers
from workshops.fops import services as svc
from workshops.fops.proposals import (
    FAILED_UNEXPECTEDLY,
    NO_CONSENSUS,
    ProposalError,
    clean_parameters,
    fop_proposal_run_queue,
    fop_propose,
)
from workshops.fops.selectors import fop_history_verify, fop_proposal_comparison
from workshops.fops.tasks import propose_fops
from workshops.fops.types import ProposalParameters
from workshops.models import FOP, DelphiItem, FOPCapability, FOPChange, FOPProposalRun

OCCUPATIONS = [
    (
        "cold chain logistics coordinator",
        "Coordinates refrigerated transport and storage of temperature-sensitive goods.",
    ),
    ("supply chain manager", "Plans and manages the movement of materials and products between sites."),
    ("quality assurance manager", "Ensures products meet quality standards through audits and quality systems."),
    ("qualified person", "Certifies batches of medicinal products before release."),
    ("automation engineer", "Designs and programmes robotic and automated manufacturing systems."),
    ("data integration specialist", "Connects instruments and software systems so data flows to one platform."),
    ("nurse", "Cares for patients in hospital wards."),
    ("software developer", "Writes and tests computer programs."),
]


@pytest.fixture
def small_occupations(db, tmp_path):
    """A small ESCO (these occupations only), imported by the real importer: names come from it."""
    occupations = [(name, text, f"{1000 + n}.1") for n, (name, text) in enumerate(OCCUPATIONS)]
    return import_framework("esco", str(write_esco(tmp_path / "esco", occupations=occupations))).version


@pytest.fixture
def proposer(small_occupations):
    fop_providers.override("propose_profiles", proposals.propose_profiles)
    yield
    fop_providers.reset()


PARAMS = ProposalParameters(max_size=4, min_size=2, similarity=0.3)


def snapshot(cycle):
    return sorted(
        (
            f.role_level_id,
            f.name,
            tuple(sorted(FOPCapability.objects.filter(fop=f).values_list("capability__ref", "proficiency"))),
            tuple(n["name"] for n in f.suggested_names),
            f.description,
        )
        for f in FOP.objects.filter(cycle=cycle, source=FOP.Source.PROPOSED)
    )


def test_proposals_are_deterministic_for_the_same_inputs(personas, proposer):
    build_needs(personas.cycle)
    fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    first = snapshot(personas.cycle)
    fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    assert snapshot(personas.cycle) == first
    assert FOPProposalRun.objects.filter(cycle=personas.cycle).count() == 2
    assert FOP.objects.filter(cycle=personas.cycle, source=FOP.Source.PROPOSED).count() == len(first)


def test_every_needed_capability_of_a_role_level_lands_in_a_proposal_at_its_consensus_proficiency(personas, proposer):
    levels, caps = build_needs(personas.cycle)
    run = fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    for level in levels:
        needed = dict(
            DelphiItem.objects.filter(role_level=level, consensus_value__gte=1).values_list(
                "capability_id", "consensus_value"
            )
        )
        placed = {}
        for entry in FOPCapability.objects.filter(fop__role_level=level, fop__proposal_run=run):
            assert needed[entry.capability_id] == entry.proficiency
            placed[entry.capability_id] = entry.proficiency
        assert placed == needed
    assert all(len(f.entries.all()) <= PARAMS.max_size for f in FOP.objects.filter(proposal_run=run))
    assert run.summary["capabilities_placed"] == DelphiItem.objects.filter(consensus_value__gte=1).count()


def test_proposals_carry_up_to_three_suggested_names_and_a_draft_description(personas, proposer):
    build_needs(personas.cycle)
    fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    for fop in FOP.objects.filter(cycle=personas.cycle, source=FOP.Source.PROPOSED):
        assert 1 <= len(fop.suggested_names) <= 3
        assert fop.name in {n["name"] for n in fop.suggested_names} or "profile" in fop.name
        assert fop.description.startswith(f"A {fop.role_level.name} role that must be able to")
        assert fop_history_verify(fop=fop).ok


def test_the_cold_chain_capabilities_are_named_after_the_nearest_occupation(personas, proposer):
    build_needs(personas.cycle, levels=("Professional & Delivery",), proficiencies=[[2] * 9])
    fop_propose(
        cycle=personas.cycle, actor=personas.convener, parameters=ProposalParameters(max_size=3, similarity=0.2)
    )
    holder = FOP.objects.get(cycle=personas.cycle, entries__capability__ref="C01")
    refs = set(holder.entries.values_list("capability__ref", flat=True))
    assert refs & {"C02", "C03"}
    assert holder.suggested_names[0]["name"] in {"Cold Chain Logistics Coordinator", "Supply Chain Manager"}


def test_a_rerun_never_touches_ratified_in_review_published_manual_or_edited_fops(personas, proposer):
    levels, caps = build_needs(personas.cycle)
    fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    proposed = list(FOP.objects.filter(cycle=personas.cycle, source=FOP.Source.PROPOSED).order_by("id"))
    assert len(proposed) >= 4
    ratified, in_review, edited, untouched = proposed[0], proposed[1], proposed[2], proposed[3]
    svc.fop_assign_reviewers(fop=ratified, actor=personas.convener, reviewers=[personas.employer])
    svc.fop_ratify(fop=ratified, actor=personas.employer)
    svc.fop_assign_reviewers(fop=in_review, actor=personas.convener, reviewers=[personas.employer])
    svc.fop_update(fop=edited, actor=personas.convener, name="Renamed by the convener")
    published = make_fop(
        personas.cycle, capabilities=caps[:2], name="Published", source=FOP.Source.PUBLISHED, status=FOP.Status.RATIFIED
    )
    manual = make_fop(personas.cycle, capabilities=caps[3:5], name="Hand made")
    keep = [ratified, in_review, edited, published, manual]
    before = {
        f.pk: (FOP.objects.get(pk=f.pk).history_hash, sorted(f.entries.values_list("capability_id", "proficiency")))
        for f in keep
    }
    run = fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    for f in keep:
        fresh = FOP.objects.get(pk=f.pk)
        assert (fresh.history_hash, sorted(fresh.entries.values_list("capability_id", "proficiency"))) == before[f.pk]
        assert fop_history_verify(fop=fresh).ok
    assert not FOP.objects.filter(pk=untouched.pk).exists()
    assert run.summary["kept"] == 3  # the ratified, in-review and edited proposals
    assert FOP.objects.get(pk=ratified.pk).status == FOP.Status.RATIFIED


def test_proposing_without_any_consensus_says_so_and_creates_nothing(personas, proposer):
    build_needs(personas.cycle, proficiencies=[[0] * 9, [0] * 9])
    with pytest.raises(ProposalError, match=NO_CONSENSUS[:30]):
        fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    assert not FOPProposalRun.objects.exists()


@pytest.mark.parametrize(
    ("max_size", "similarity", "message"),
    [(1, 0.4, "Profile size"), ("x", 0.4, "Profile size"), (8, 1.5, "Similarity"), (8, "high", "Similarity")],
)
def test_bad_parameters_are_refused_with_a_clear_message(max_size, similarity, message):
    with pytest.raises(ProposalError, match=message):
        clean_parameters(max_size=max_size, similarity=similarity)


def test_the_command_runs_the_same_service(personas, proposer):
    build_needs(personas.cycle)
    call_command(
        "propose_fops", personas.cycle.slug, "--max-size", "4", "--similarity", "0.3", stdout=open("/dev/null", "w")
    )
    first = snapshot(personas.cycle)
    fop_propose(cycle=personas.cycle, actor=None, parameters=PARAMS)
    assert snapshot(personas.cycle) == first


def test_each_proposal_is_compared_with_its_closest_published_fop(personas, proposer):
    levels, caps = build_needs(personas.cycle, levels=("Professional & Delivery",), proficiencies=[[2] * 9])
    published = make_fop(
        personas.cycle,
        capabilities=caps[:3],
        name="Cold Chain Lead",
        source=FOP.Source.PUBLISHED,
        status=FOP.Status.RATIFIED,
    )
    make_fop(
        personas.cycle,
        capabilities=caps[6:9],
        name="Automation Lead",
        source=FOP.Source.PUBLISHED,
        status=FOP.Status.RATIFIED,
    )
    fop_propose(cycle=personas.cycle, actor=None, parameters=ProposalParameters(max_size=3, similarity=0.2))
    rows = {r.proposal.pk: r for r in fop_proposal_comparison(cycle=personas.cycle)}
    holder = FOP.objects.get(source=FOP.Source.PROPOSED, entries__capability=caps[0])
    row = rows[holder.pk]
    assert row.closest == published
    assert caps[0] in row.shared
    expected = len(set(row.proposal_caps) & set(caps[:3])) / len(set(row.proposal_caps) | set(caps[:3]))
    assert row.jaccard == round(expected, 3)


# --- the convener's page queues a run; the Celery task computes it -----------------------------------

FORM = {"max_size": 4, "min_size": 2, "similarity": 0.3}


def propose_url(cycle):
    return reverse("workshops:fop_propose", args=[cycle.slug])


def without_timing(summary):
    return {k: v for k, v in summary.items() if k != "compute_seconds"}


def test_the_form_queues_a_run_the_task_completes_with_what_the_service_produced(
    personas, proposer, django_capture_on_commit_callbacks
):
    build_needs(personas.cycle)
    direct = fop_propose(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    expected_fops, expected_summary = snapshot(personas.cycle), without_timing(direct.summary)
    # Back to the same starting point, then the same parameters through the page.
    FOP.objects.filter(cycle=personas.cycle, source=FOP.Source.PROPOSED).delete()
    FOPProposalRun.objects.all().delete()
    client = personas.client_for(personas.convener)
    with django_capture_on_commit_callbacks(execute=True):  # the task runs after the commit (eager here)
        response = client.post(propose_url(personas.cycle), FORM)
    assert response.status_code == 302 and response["Location"] == propose_url(personas.cycle)
    run = FOPProposalRun.objects.get(cycle=personas.cycle)
    assert run.status == FOPProposalRun.Status.DONE and run.error == ""
    assert run.created_by == personas.convener and run.parameters == PARAMS.as_dict()
    assert run.started_at <= run.finished_at
    assert without_timing(run.summary) == expected_summary
    assert snapshot(personas.cycle) == expected_fops
    assert set(
        FOP.objects.filter(cycle=personas.cycle, source=FOP.Source.PROPOSED).values_list("proposal_run", flat=True)
    ) == {run.pk}
    html = client.get(propose_url(personas.cycle)).content.decode()
    s = run.summary
    assert "Latest run done" in html
    assert (
        f"{s['created']} FOPs proposed from {s['needed_items']} needed items (0 earlier proposals replaced, 0 kept"
        in html
    )
    assert reverse("workshops:fop_compare", args=[personas.cycle.slug]) in html
    assert 'hx-trigger="every 2s"' not in html  # nothing left to poll


def test_running_the_task_twice_on_the_same_run_changes_nothing_the_second_time(personas, proposer):
    build_needs(personas.cycle)
    run = fop_proposal_run_queue(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    assert run.status == FOPProposalRun.Status.QUEUED
    assert propose_fops(run.pk, personas.convener.pk) == "done"

    def state():
        fresh = FOPProposalRun.objects.get(pk=run.pk)
        return (
            snapshot(personas.cycle),
            sorted(FOP.objects.filter(cycle=personas.cycle).values_list("pk", "history_hash")),
            FOPChange.objects.count(),
            (fresh.status, fresh.summary, fresh.started_at, fresh.finished_at, fresh.error),
        )

    before = state()
    assert propose_fops(run.pk, personas.convener.pk) == "skipped"
    assert state() == before


def test_a_cycle_without_consensus_gives_a_failed_run_whose_error_the_page_shows(
    personas, proposer, django_capture_on_commit_callbacks
):
    build_needs(personas.cycle, proficiencies=[[0] * 9, [0] * 9])
    client = personas.client_for(personas.convener)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(propose_url(personas.cycle), FORM)
    assert response.status_code == 302
    run = FOPProposalRun.objects.get(cycle=personas.cycle)
    assert run.status == FOPProposalRun.Status.FAILED and run.error == NO_CONSENSUS and run.finished_at
    assert not FOP.objects.filter(cycle=personas.cycle).exists()
    html = client.get(propose_url(personas.cycle)).content.decode()
    assert "The latest run failed" in html and NO_CONSENSUS in html


def test_an_unexpected_error_fails_the_run_with_a_generic_message_and_is_raised_for_the_log(personas, proposer):
    build_needs(personas.cycle)

    def broken(levels, parameters, progress=None):
        raise RuntimeError("model file missing")

    fop_providers.override("propose_profiles", broken)
    run = fop_proposal_run_queue(cycle=personas.cycle, actor=personas.convener, parameters=PARAMS)
    with pytest.raises(RuntimeError, match="model file missing"):
        propose_fops(run.pk, personas.convener.pk)
    run.refresh_from_db()
    assert run.status == FOPProposalRun.Status.FAILED and run.error == FAILED_UNEXPECTEDLY
    assert propose_fops(run.pk, personas.convener.pk) == "skipped"  # a failed run is left alone


# --- the clustering itself, on hand-made vectors ---------------------------------------------------


def unit(*rows):
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_clustering_groups_similar_vectors_and_respects_the_size_cap():
    vectors = unit([1, 0, 0], [0.95, 0.05, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.97, 0.03], [0, 0, 1])
    affinity = proposals.affinity_matrix(vectors, [frozenset()] * 6, 0.0)
    assert proposals.cluster(affinity, max_size=3, min_size=1, threshold=0.8) == [[0, 1, 2], [3, 4], [5]]
    assert proposals.cluster(affinity, max_size=2, min_size=1, threshold=0.8) == [[0, 1], [2], [3, 4], [5]]


def test_small_profiles_join_the_most_similar_profile_with_room():
    vectors = unit([1, 0, 0], [0.95, 0.05, 0], [0, 1, 0], [0, 0.97, 0.03], [0.2, 0.1, 1])
    affinity = proposals.affinity_matrix(vectors, [frozenset()] * 5, 0.0)
    groups = proposals.cluster(affinity, max_size=3, min_size=2, threshold=0.8)
    assert sorted(len(g) for g in groups) == [2, 3]
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3, 4]


def test_a_shared_supply_chain_partner_pulls_capabilities_together():
    vectors = unit([1, 0.6, 0], [1, 0, 0.6], [1, 0.62, 0.6])
    plain = proposals.cluster(
        proposals.affinity_matrix(vectors, [frozenset()] * 3, 0.0), max_size=2, min_size=1, threshold=0.5
    )
    partners = [frozenset({1}), frozenset({2}), frozenset({2})]
    with_partners = proposals.cluster(
        proposals.affinity_matrix(vectors, partners, 0.3), max_size=2, min_size=1, threshold=0.5
    )
    assert plain == [[0, 2], [1]]
    assert with_partners == [[0], [1, 2]]

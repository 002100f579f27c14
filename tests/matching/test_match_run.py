"""Match runs with the real shipped model on small fixtures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.jobs import QUEUED_STALE_AFTER, STALE_AFTER
from matching import embeddings, selectors, services
from matching.models import MatchResult, MatchRun
from tests.factories import RoleLevelFactory
from tests.matching.conftest import make_capability, make_fop, make_framework

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

STANDARDS = [
    ("ST1", "Laboratory technician", 3, [
        "Maintain laboratory equipment and keep records of calibration",
        "Prepare a budget for a marketing campaign",
    ]),
    ("ST2", "Clean room supervisor", 4, [
        "Supervise aseptic manufacturing in clean rooms",
        "Plan the weekly rota for the catering team",
    ]),
    ("ST7", "Senior manufacturing leader", 7, [
        "Maintain and calibrate laboratory equipment, keeping calibration records",
    ]),
]  # fmt: skip


@pytest.fixture
def cycle_with_fop(personas, embedding_model):
    cycle = personas.cycle
    version = make_framework("ifate", STANDARDS)
    technician = RoleLevelFactory(cycle=cycle, name="Technicians", academic_level_min=3, academic_level_max=3)
    caps = [
        make_capability(cycle, "C01", "Keep laboratory instruments calibrated and maintained, with records"),
        make_capability(cycle, "C02", "Run aseptic processing in a clean room environment"),
    ]
    fop = make_fop(cycle, "Point-of-care technician", caps, role_level=technician)
    return cycle, version, fop, caps


def test_a_paraphrase_outscores_an_unrelated_statement(embedding_model, db):
    query, paraphrase, unrelated = embeddings.encode([
        "Keep laboratory instruments calibrated and maintained",
        "Maintain laboratory equipment and keep records of calibration",
        "Prepare a budget for a marketing campaign",
    ])  # fmt: skip
    assert float(query @ paraphrase) > float(query @ unrelated) + 0.3


def test_a_run_stores_the_top_k_with_scores_and_records_what_it_used(
    cycle_with_fop, django_capture_on_commit_callbacks
):
    cycle, version, fop, caps = cycle_with_fop
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_create(cycle=cycle, framework_version=version, threshold=0.5, top_k=2)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE and run.progress == 100
    assert run.model_name == embeddings.MODEL_NAME
    assert {"load_statements", "embed_capabilities", "score", "save", "total"} <= set(run.timings)
    assert run.counts["capabilities"] == 2
    results = list(selectors.capability_results(run, caps[0]))
    assert [r.rank for r in results] == [1, 2]
    assert results[0].statement.text == "Maintain laboratory equipment and keep records of calibration"
    assert 0.0 <= results[1].score <= results[0].score <= 1.0


def test_the_level_window_holds(cycle_with_fop):
    cycle, version, fop, caps = cycle_with_fop
    run = services.match_run_create(cycle=cycle, framework_version=version, threshold=0.5, top_k=5, enqueue=False)
    services.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    # A level-3 role is compared with levels 2–4: the level-7 paraphrase is never a candidate.
    assert run.windows[str(caps[0].pk)] == [2, 4]
    levels = set(MatchResult.objects.filter(run=run).values_list("statement__standard__level", flat=True))
    assert levels <= {2, 3, 4}
    assert {r.standard.ref for r in selectors.fit_surplus(run, fop)} == {"ST1", "ST2"}
    # With a wider window, the senior standard is in reach.
    wide = services.match_run_create(
        cycle=cycle, framework_version=version, threshold=0.5, level_window=4, enqueue=False
    )
    services.match_run_execute(run_id=wide.pk)
    assert 7 in set(MatchResult.objects.filter(run=wide).values_list("statement__standard__level", flat=True))


def test_a_second_run_encodes_nothing_and_stores_the_same_results(cycle_with_fop):
    cycle, version, fop, caps = cycle_with_fop
    first = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    services.match_run_execute(run_id=first.pk)
    encoded = embeddings.STATS.encoded
    embeddings.forget_corpora()  # nothing in memory: the store alone must answer
    second = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    services.match_run_execute(run_id=second.pk)
    assert embeddings.STATS.encoded == encoded
    second.refresh_from_db()
    assert second.counts["encoded"] == 0

    def rows(run):
        return list(
            MatchResult.objects.filter(run=run)
            .order_by("capability", "rank")
            .values_list("capability", "rank", "statement", "score")
        )

    assert rows(first) == rows(second)


def test_executing_a_run_twice_computes_it_once(cycle_with_fop, django_capture_on_commit_callbacks):
    cycle, version, fop, caps = cycle_with_fop
    run = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    assert services.match_run_execute(run_id=run.pk) is True
    count = MatchResult.objects.filter(run=run).count()
    assert services.match_run_execute(run_id=run.pk) is False
    assert MatchResult.objects.filter(run=run).count() == count
    # A deliberate re-run replaces the results.
    with django_capture_on_commit_callbacks(execute=True):
        services.match_run_rerun(run=run, actor=None)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE
    assert MatchResult.objects.filter(run=run).count() == count


def test_before_fops_exist_a_run_compares_the_accepted_capabilities(personas, embedding_model):
    cycle = personas.cycle
    version = make_framework(
        "onet", [("11-1", "Lab techs", None, ["Calibrate laboratory equipment"])], has_levels=False
    )
    make_capability(cycle, "C01", "Calibrate lab instruments")
    make_capability(cycle, "C02", "Submitted only", status="submitted")
    run = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    services.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.counts["capabilities"] == 1
    assert run.windows == {str(cycle.capabilities.get(ref="C01").pk): None}
    (match,) = selectors.capability_best_matches(run)
    assert match.matched and match.window is None


def test_a_run_whose_worker_was_lost_is_taken_over_and_a_live_one_is_left_alone(cycle_with_fop):
    cycle, version, fop, caps = cycle_with_fop
    long_ago = timezone.now() - STALE_AFTER - timedelta(minutes=1)
    lost = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    alive = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    MatchRun.objects.filter(pk=lost.pk).update(status=MatchRun.Status.RUNNING, started_at=long_ago)
    MatchRun.objects.filter(pk=alive.pk).update(
        status=MatchRun.Status.RUNNING, started_at=long_ago, heartbeat_at=timezone.now()
    )
    assert services.match_run_execute(run_id=alive.pk) is False
    assert services.match_run_execute(run_id=lost.pk) is True
    lost.refresh_from_db()
    assert lost.status == MatchRun.Status.DONE and MatchResult.objects.filter(run=lost).exists()
    assert not MatchResult.objects.filter(run=alive).exists()


def test_creating_a_run_fails_the_cycles_lost_runs_with_a_message(cycle_with_fop):
    cycle, version, fop, caps = cycle_with_fop
    lost = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    MatchRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - QUEUED_STALE_AFTER - timedelta(minutes=1))
    waiting = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert lost.status == MatchRun.Status.FAILED and lost.error == services.NEVER_FINISHED
    assert waiting.status == MatchRun.Status.QUEUED
    assert services.match_run_execute(run_id=lost.pk) is False  # its task, arriving late, does nothing

"""Who may see and do what on the matching pages, and what the pages do."""

import pytest
from django.urls import reverse

from matching import services
from matching.models import MatchReview, MatchRun, Statement
from tests.factories import RoleLevelFactory
from tests.matching.conftest import make_capability, make_fop, make_framework

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return make_framework(
        "ifate",
        [
            (
                "ST1",
                "Laboratory technician",
                3,
                ["Maintain laboratory equipment and keep calibration records", "Prepare budgets"],
            )
        ],
    )


@pytest.fixture
def finished_run(personas, version, embedding_model):
    cycle = personas.cycle
    cap = make_capability(cycle, "C01", "Keep laboratory instruments calibrated and maintained")
    make_fop(
        cycle, "Technician", [cap], role_level=RoleLevelFactory(cycle=cycle, academic_level_min=3, academic_level_max=3)
    )
    run = services.match_run_create(cycle=cycle, framework_version=version, threshold=0.5, enqueue=False)
    services.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def _url(name, *args):
    return reverse(f"matching:{name}", args=args)


def test_members_see_the_runs_page_outsiders_get_404_and_anonymous_goes_to_login(personas):
    url = _url("runs", "cycle-a")
    assert personas.client_for(personas.educator).get(url).status_code == 200
    assert personas.client_for(personas.outsider).get(url).status_code == 404
    response = personas.client_for(None).get(url)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_only_the_convener_starts_a_run(personas, version, django_capture_on_commit_callbacks):
    data = {"framework_version": version.pk, "threshold": "0.5", "level_window": "1", "top_k": "5"}
    assert personas.client_for(personas.educator).post(_url("runs", "cycle-a"), data).status_code == 403
    assert not MatchRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = personas.client_for(personas.convener).post(_url("runs", "cycle-a"), data)
    run = MatchRun.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("run_detail", "cycle-a", run.pk)
    assert len(callbacks) == 1  # the task is enqueued after commit
    assert (run.status, run.top_k, run.threshold) == ("queued", 5, 0.5)


def test_a_bad_run_form_re_renders_with_errors_and_starts_nothing(personas, version):
    data = {"framework_version": version.pk, "threshold": "1.7", "level_window": "1", "top_k": "5"}
    response = personas.client_for(personas.convener).post(_url("runs", "cycle-a"), data)
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 1.0" in response.content.decode()
    assert not MatchRun.objects.exists()


def test_a_queued_run_shows_progress_that_polls(personas, version):
    run = services.match_run_create(cycle=personas.cycle, framework_version=version, enqueue=False)
    response = personas.client_for(personas.observer).get(_url("run_detail", "cycle-a", run.pk))
    assert 'hx-trigger="every 1s"' in response.content.decode()
    partial = personas.client_for(personas.observer).get(
        _url("run_progress", "cycle-a", run.pk), HTTP_HX_REQUEST="true"
    )
    assert "run-progress" in partial.content.decode() and "<html" not in partial.content.decode()
    services.match_run_execute(run_id=run.pk)
    done = personas.client_for(personas.observer).get(_url("run_progress", "cycle-a", run.pk), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


@pytest.mark.slow
def test_the_run_page_lists_each_capability_with_its_best_match_and_score(personas, finished_run):
    page = personas.client_for(personas.observer).get(_url("run_detail", "cycle-a", finished_run.pk)).content.decode()
    assert "Keep laboratory instruments calibrated" in page
    assert "Maintain laboratory equipment and keep calibration records" in page
    assert "served" in page
    assert "Confirm" not in page  # observers do not review
    assert "±1 academic level" in page


@pytest.mark.slow
def test_the_run_summary_agrees_in_number(personas, finished_run):
    # Found by the whole-cycle browser test: "4 of 5 capabilities are served …; 1 have none."
    client = personas.client_for(personas.convener)

    def summary(**params) -> str:
        page = client.get(_url("run_detail", "cycle-a", finished_run.pk), params).content.decode()
        lead = page.split('<p class="lead">', 1)[1].split("</p>", 1)[0]
        return " ".join(lead.replace("<strong>", "").replace("</strong>", "").split())

    assert summary() == "At threshold 0.50: 1 of 1 capability is served by current provision; 0 have none."
    assert (
        summary(threshold="0.99") == "At threshold 0.99: 0 of 1 capability are served by current provision; 1 has none."
    )
    statement = Statement.objects.get(text__startswith="Maintain laboratory")
    cap = personas.cycle.capabilities.get(ref="C01")
    services.match_review_record(capability=cap, statement=statement, decision="reject", reviewer=personas.convener)
    assert summary().endswith("1 has none. 1 human decision overrides the threshold.")


@pytest.mark.slow
def test_an_educator_rejects_a_match_and_fit_follows_while_the_score_stays(personas, finished_run):
    statement = Statement.objects.get(text__startswith="Maintain laboratory")
    cap = personas.cycle.capabilities.get(ref="C01")
    client = personas.client_for(personas.educator)
    response = client.post(
        _url("run_review", "cycle-a", finished_run.pk),
        {"capability": cap.pk, "statement": statement.pk, "decision": "reject"},
        follow=True,
    )
    assert MatchReview.objects.get().decision == "reject"
    page = response.content.decode()
    assert "rejected; fit and surplus follow your decision" in page
    assert "no provision" in page
    assert (
        personas.client_for(personas.employer)
        .post(
            _url("run_review", "cycle-a", finished_run.pk),
            {"capability": cap.pk, "statement": statement.pk, "decision": "confirm"},
        )
        .status_code
        == 403
    )


@pytest.mark.slow
def test_the_convener_changes_the_threshold_without_recomputing(personas, finished_run):
    encoded = finished_run.counts["encoded"]
    response = personas.client_for(personas.convener).post(
        _url("run_threshold", "cycle-a", finished_run.pk), {"threshold": "0.99"}, follow=True
    )
    assert "Threshold set to 0.99" in response.content.decode()
    finished_run.refresh_from_db()
    assert finished_run.threshold == 0.99 and finished_run.counts["encoded"] == encoded
    assert "no provision" in response.content.decode()
    bad = personas.client_for(personas.convener).post(
        _url("run_threshold", "cycle-a", finished_run.pk), {"threshold": "2"}, follow=True
    )
    assert "The threshold was not changed" in bad.content.decode()
    finished_run.refresh_from_db()
    assert finished_run.threshold == 0.99


@pytest.mark.slow
def test_the_fop_page_shows_fit_and_surplus_per_standard(personas, finished_run):
    fop = personas.cycle.fops.get()
    page = (
        personas.client_for(personas.educator).get(_url("run_fop", "cycle-a", finished_run.pk, fop.pk)).content.decode()
    )
    assert "Laboratory technician" in page and "100 %" in page and "50 %" in page


def test_another_cycles_run_is_not_found(personas, version):
    run = services.match_run_create(cycle=personas.other_cycle, framework_version=version, enqueue=False)
    assert personas.client_for(personas.convener).get(_url("run_detail", "cycle-a", run.pk)).status_code == 404


def test_the_frameworks_page_lists_versions_and_says_which_have_no_levels(personas, version):
    make_framework("onet", [("11-1", "Chief Executives", None, ["Direct budgets"])], has_levels=False)
    page = personas.client_for(personas.educator).get(_url("frameworks")).content.decode()
    assert "ifate test" in page and "onet test" in page and "none (no level window)" in page


@pytest.fixture
def wide_window_run(personas, embedding_model):
    """A FOP whose role level spans academic levels 2–7, run with a window of ±1: stored as 1–8."""
    cycle = personas.cycle
    version = make_framework(
        "ifate",
        [
            (f"ST{level}", f"Standard at level {level}", level, [f"Operate equipment safely at level {level}"])
            for level in range(2, 8)
        ],
    )
    cap = make_capability(cycle, "C01", "Operate laboratory equipment safely")
    level = RoleLevelFactory(cycle=cycle, academic_level_min=2, academic_level_max=7)
    fop = make_fop(cycle, "Technician", [cap], role_level=level)
    run = services.match_run_create(
        cycle=cycle, framework_version=version, threshold=0.5, level_window=1, enqueue=False
    )
    services.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.fop_snapshot[str(fop.pk)]["window"] == [1, 8]  # what the run stores
    return run, fop, cap


@pytest.mark.slow
def test_the_level_window_shows_the_levels_the_standards_really_have(personas, wide_window_run):
    run, fop, cap = wide_window_run
    client = personas.client_for(personas.educator)
    fop_page = client.get(_url("run_fop", "cycle-a", run.pk, fop.pk)).content.decode()
    assert "Standards at levels 2–7" in fop_page and "1–8" not in fop_page
    cap_page = client.get(_url("run_capability", "cycle-a", run.pk, cap.pk)).content.decode()
    assert "within levels 2–7" in cap_page and "1–8" not in cap_page
    run_page = client.get(_url("run_detail", "cycle-a", run.pk)).content.decode()
    assert "compared at levels 2–7" in run_page and "1–8" not in run_page
    assert "within the framework&#x27;s levels 2–7" in run_page or "within the framework's levels 2–7" in run_page


@pytest.mark.slow
def test_when_nothing_fits_the_fop_page_names_no_standard(personas, finished_run):
    fop = personas.cycle.fops.get()
    client = personas.client_for(personas.educator)
    page = client.get(_url("run_fop", "cycle-a", finished_run.pk, fop.pk) + "?threshold=0.99").content.decode()
    standards = page[page.index("Best-fitting standards") : page.index('<h2 class="h5 mt-4">Capabilities')]
    assert "No standard matches" in standards
    assert "Laboratory technician" not in standards  # the only standard, at 0 % fit, is not listed as fitting
    assert "closest, below the threshold" in page  # the capability's near miss is not called its best match
    run_page = client.get(_url("run_detail", "cycle-a", finished_run.pk) + "?threshold=0.99").content.decode()
    priorities = run_page[
        run_page.index("FOPs by capabilities without provision") : run_page.index("Capabilities and their best match")
    ]
    assert "No standard matches" in priorities and "Laboratory technician" not in priorities

import pytest
from django.conf import settings

from cycles import demo as cycles_demo
from matching import demo, embeddings, selectors
from matching.models import FrameworkVersion, MatchRun
from workshops import demo as workshops_demo

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def ifate_only(tmp_path):
    """The shared data without O*NET and ESCO, so the test imports and embeds only IfATE."""
    (tmp_path / "ifate").symlink_to(settings.SHARED_DATA_DIR / "ifate")
    (tmp_path / "seed_cycles").symlink_to(settings.SHARED_DATA_DIR / "seed_cycles")
    return tmp_path


def test_the_demo_matches_the_point_of_care_cycle_against_ifate_and_running_it_again_changes_nothing(
    ifate_only, embedding_model
):
    cycles_demo.load(ifate_only)
    workshops_demo.load(ifate_only)
    run = demo.load(ifate_only)
    assert run.status == MatchRun.Status.DONE
    assert run.cycle.slug == "poc_manufacturing_2025"
    assert run.counts["capabilities"] >= 54 or run.counts["fops"] > 0
    summary = selectors.run_summary(run)
    assert (
        summary["capabilities"] == run.counts["capabilities"]
        and summary["served"] + summary["without_provision"] == summary["capabilities"]
    )
    encoded = embeddings.STATS.encoded
    again = demo.load(ifate_only)
    assert again.pk == run.pk and again.finished_at == run.finished_at
    assert embeddings.STATS.encoded == encoded
    assert FrameworkVersion.objects.count() == 1 and MatchRun.objects.count() == 1

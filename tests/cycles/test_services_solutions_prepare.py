"""Solutions (propose, rate, prioritise, results) and the Prepare set-up (partners, role levels, workshops)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from cycles import selectors, services
from cycles.models import AuditEvent, Cycle, Phase, RoleLevel, SolutionRating
from cycles.services import prepare
from tests.cycles.factories import SolutionFactory, SolutionRatingFactory
from tests.factories import RoleLevelFactory, UserFactory

pytestmark = pytest.mark.django_db


def in_phase(cycle, phase):
    Cycle.objects.filter(pk=cycle.pk).update(phase=phase)
    cycle.refresh_from_db()
    return cycle


def test_solutions_are_proposed_in_consider_only(personas):
    s = services.solution_propose(cycle=personas.cycle, title="Closed systems", proposed_by=personas.technologist)
    assert s.proposed_by == personas.technologist
    with pytest.raises(ValidationError, match="already been proposed"):
        services.solution_propose(cycle=personas.cycle, title="closed SYSTEMS", proposed_by=personas.employer)
    in_phase(personas.cycle, Phase.IDENTIFY)
    with pytest.raises(ValidationError, match="during Consider"):
        services.solution_propose(cycle=personas.cycle, title="Late idea", proposed_by=personas.employer)
    assert personas.cycle.solutions.count() == 1


def test_ratings_are_upserted_and_validated(personas):
    solution = SolutionFactory(cycle=in_phase(personas.cycle, Phase.IDENTIFY))
    services.solution_rate(solution=solution, rater=personas.employer, impact=4, feasibility=2, comment="Costly")
    services.solution_rate(solution=solution, rater=personas.employer, impact=5, feasibility=3)
    rating = SolutionRating.objects.get()
    assert (rating.impact, rating.feasibility, rating.comment) == (5, 3, "")
    with pytest.raises(ValidationError) as excinfo:
        services.solution_rate(solution=solution, rater=personas.employer, impact=6, feasibility=0)
    assert set(excinfo.value.message_dict) == {"impact", "feasibility"}
    assert SolutionRating.objects.get().impact == 5


def test_rating_outside_identify_is_refused(personas):
    solution = SolutionFactory(cycle=personas.cycle)
    with pytest.raises(ValidationError, match="during Identify"):
        services.solution_rate(solution=solution, rater=personas.employer, impact=3, feasibility=3)


def test_results_give_n_mean_and_median_best_first(personas):
    a = SolutionFactory(cycle=personas.cycle, title="A")
    b = SolutionFactory(cycle=personas.cycle, title="B")
    SolutionFactory(cycle=personas.cycle, title="Unrated")
    for rater, impact, feas in [(personas.employer, 5, 4), (personas.educator, 4, 4), (personas.technologist, 1, 5)]:
        SolutionRatingFactory(solution=a, rater=rater, impact=impact, feasibility=feas)
    SolutionRatingFactory(solution=b, rater=personas.employer, impact=5, feasibility=5)
    results = selectors.solution_results(personas.cycle)
    assert [r.solution.title for r in results] == ["B", "A", "Unrated"]
    a_result = results[1]
    assert (a_result.n, a_result.impact_mean, a_result.impact_median) == (3, 3.33, 4)
    assert (a_result.feasibility_mean, a_result.feasibility_median) == (4.33, 4)
    assert results[2].n == 0 and results[2].impact_mean is None


def test_prioritising_is_audited(personas):
    solution = SolutionFactory(cycle=in_phase(personas.cycle, Phase.IDENTIFY))
    services.solution_set_prioritised(solution=solution, prioritised=True, actor=personas.convener)
    solution.refresh_from_db()
    assert solution.prioritised
    assert AuditEvent.objects.filter(verb="solution.prioritised", actor=personas.convener).exists()


def test_a_role_level_with_min_above_max_is_refused_and_nothing_is_saved(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.role_level_save(
            cycle=personas.cycle, actor=personas.convener, name="Leads", academic_level_min=6, academic_level_max=4
        )
    assert excinfo.value.message_dict["academic_level_max"] == [prepare.LEVEL_MIN_ABOVE_MAX.format(low=6, high=4)]
    assert not RoleLevel.objects.exists()


@pytest.mark.parametrize(("low", "high"), [(1, 4), (3, 8)])
def test_academic_levels_outside_2_to_7_are_refused(personas, low, high):
    with pytest.raises(ValidationError, match="2 to 7"):
        services.role_level_save(
            cycle=personas.cycle, actor=personas.convener, name="X", academic_level_min=low, academic_level_max=high
        )


def test_role_levels_are_created_in_order_and_edited(personas):
    first = services.role_level_save(
        cycle=personas.cycle, actor=personas.convener, name="Technicians", academic_level_min=2, academic_level_max=4
    )
    second = services.role_level_save(
        cycle=personas.cycle, actor=personas.convener, name="Scientists", academic_level_min=5, academic_level_max=6
    )
    assert (first.order, second.order) == (1, 2)
    services.role_level_save(
        cycle=personas.cycle,
        actor=personas.convener,
        name="Senior scientists",
        academic_level_min=6,
        academic_level_max=7,
        role_level=second,
    )
    second.refresh_from_db()
    assert (second.name, second.academic_level_min, second.order) == ("Senior scientists", 6, 2)
    with pytest.raises(ValidationError, match="already has a role level"):
        services.role_level_save(
            cycle=personas.cycle,
            actor=personas.convener,
            name="technicians",
            academic_level_min=2,
            academic_level_max=3,
        )


def test_a_role_level_in_use_cannot_be_deleted(personas):
    from workshops.models import FOP

    level = RoleLevelFactory(cycle=personas.cycle)
    FOP.objects.create(cycle=personas.cycle, role_level=level, name="Validation engineer")
    services.role_level_delete(role_level=RoleLevelFactory(cycle=personas.cycle), actor=personas.convener)
    # FOP.role_level is SET_NULL, so the FOP does not block deletion; a Delphi item (CASCADE) would.
    services.role_level_delete(role_level=level, actor=personas.convener)
    assert not RoleLevel.objects.filter(cycle=personas.cycle).exists()


def test_partners_are_unique_per_cycle(personas):
    services.partner_save(cycle=personas.cycle, actor=personas.convener, name="Logistics")
    with pytest.raises(ValidationError, match="already has a supply-chain partner"):
        services.partner_save(cycle=personas.cycle, actor=personas.convener, name="logistics")
    services.partner_save(cycle=personas.other_cycle, actor=personas.outsider, name="Logistics")


def test_a_workshop_must_end_after_it_starts_and_know_its_time_zone(personas):
    tz = ZoneInfo("Europe/London")
    with pytest.raises(ValidationError) as excinfo:
        services.workshop_save(
            cycle=personas.cycle,
            actor=personas.convener,
            kind="technologist",
            title="W",
            starts_at=datetime(2026, 3, 1, 12, tzinfo=tz),
            ends_at=datetime(2026, 3, 1, 10, tzinfo=tz),
            timezone="Mars/Olympus",
        )
    assert set(excinfo.value.message_dict) == {"ends_at", "timezone"}
    assert not personas.cycle.workshops.exists()
    workshop = services.workshop_save(
        cycle=personas.cycle,
        actor=personas.convener,
        kind="plenary",
        title="Kick-off",
        starts_at=datetime(2026, 3, 1, 10, tzinfo=tz),
        ends_at=datetime(2026, 3, 1, 12, tzinfo=tz),
        facilitator=UserFactory(),
    )
    assert workshop.pk and AuditEvent.objects.filter(verb="workshop.created").exists()

"""Consider and Identify: candidate technology solutions, their ratings and the convener's priorities."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from cycles.access import CONVENER_ONLY, require_role
from cycles.models import Cycle, Phase, Role, Solution, SolutionRating
from cycles.services.audit import audit_record

PROPOSE_ONLY_IN_CONSIDER = "Solutions are proposed during Consider; this cycle is in {phase}."
RATE_ONLY_IN_IDENTIFY = "Solutions are rated during Identify; this cycle is in {phase}."
PRIORITISE_ONLY_IN_IDENTIFY = "Solutions are prioritised during Identify; this cycle is in {phase}."
DUPLICATE_SOLUTION = "A solution with this title has already been proposed."
SCORE_RANGE = "Give a score from 1 to 5."
# Everyone but observers proposes and rates solutions; the convener alone prioritises them.
CONTRIBUTOR_ROLES = (Role.CONVENER, Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR)
ONLY_CONTRIBUTORS = "Only the cycle's convener, technologists, employers and educators may {act}."
ONLY_CONVENER_PRIORITISES = "Only the cycle's convener may prioritise solutions."


def _current_phase(cycle_id: int) -> Phase:
    """The phase as stored now (the caller's object may predate a phase change)."""
    return Phase(Cycle.objects.values_list("phase", flat=True).get(pk=cycle_id))


@transaction.atomic
def solution_propose(*, cycle: Cycle, title: str, description: str = "", proposed_by: User) -> Solution:
    require_role(cycle, proposed_by, CONTRIBUTOR_ROLES, ONLY_CONTRIBUTORS.format(act="propose solutions"))
    if _current_phase(cycle.pk) != Phase.CONSIDER:
        raise ValidationError(PROPOSE_ONLY_IN_CONSIDER.format(phase=_current_phase(cycle.pk).label))
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the solution a title."})
    if cycle.solutions.filter(title__iexact=title).exists():
        raise ValidationError({"title": DUPLICATE_SOLUTION})
    try:
        with transaction.atomic():
            solution = Solution.objects.create(
                cycle=cycle, title=title, description=description.strip(), proposed_by=proposed_by
            )
    except IntegrityError as exc:
        raise ValidationError({"title": DUPLICATE_SOLUTION}) from exc
    audit_record(cycle=cycle, actor=proposed_by, verb="solution.proposed", summary=f"Proposed the solution “{title}”")
    return solution


@transaction.atomic
def solution_rate(
    *, solution: Solution, rater: User, impact: int, feasibility: int, comment: str = ""
) -> SolutionRating:
    """Record (or replace) the rater's impact and feasibility scores for one solution."""
    require_role(solution.cycle, rater, CONTRIBUTOR_ROLES, ONLY_CONTRIBUTORS.format(act="rate solutions"))
    phase = _current_phase(solution.cycle_id)
    if phase != Phase.IDENTIFY:
        raise ValidationError(RATE_ONLY_IN_IDENTIFY.format(phase=phase.label))
    errors = {}
    for field, value in (("impact", impact), ("feasibility", feasibility)):
        if not isinstance(value, int) or not 1 <= value <= 5:
            errors[field] = SCORE_RANGE
    if errors:
        raise ValidationError(errors)
    rating, _ = SolutionRating.objects.update_or_create(
        solution=solution,
        rater=rater,
        defaults={"impact": impact, "feasibility": feasibility, "comment": comment.strip()},
    )
    return rating


class RatingsNotSaved(Exception):
    """Some rows of a whole rating form were refused, so none was saved.
    ``errors``: {solution id: the ValidationError of that row}."""

    def __init__(self, errors: dict[int, ValidationError]):
        super().__init__(f"{len(errors)} rating(s) refused")
        self.errors = errors


@transaction.atomic
def solutions_rate(*, cycle: Cycle, rater: User, ratings: Mapping[Solution, Mapping]) -> list[SolutionRating]:
    """Record the rater's scores of several solutions at once, all or none: each row goes through
    ``solution_rate``; if any is refused, RatingsNotSaved names them and nothing is kept. A row
    equal to the rater's stored rating is left alone. Returns the ratings that changed."""
    require_role(cycle, rater, CONTRIBUTOR_ROLES, ONLY_CONTRIBUTORS.format(act="rate solutions"))
    phase = _current_phase(cycle.pk)
    if phase != Phase.IDENTIFY:
        raise ValidationError(RATE_ONLY_IN_IDENTIFY.format(phase=phase.label))
    stored = {
        r.solution_id: (r.impact, r.feasibility, r.comment)
        for r in SolutionRating.objects.filter(rater=rater, solution__in=[s.pk for s in ratings])
    }
    changed, errors = [], {}
    for solution, scores in ratings.items():
        if solution.cycle_id != cycle.pk:
            raise ValueError(f"Solution {solution.pk} is not a solution of {cycle.slug}.")
        row = (scores.get("impact"), scores.get("feasibility"), (scores.get("comment") or "").strip())
        if stored.get(solution.pk) == row:
            continue
        try:
            changed.append(solution_rate(solution=solution, rater=rater, **scores))
        except ValidationError as exc:
            errors[solution.pk] = exc
    if errors:
        raise RatingsNotSaved(errors)  # leaving the transaction by an exception undoes the rows saved
    return changed


@transaction.atomic
def solution_set_prioritised(*, solution: Solution, prioritised: bool, actor: User | None) -> Solution:
    require_role(solution.cycle, actor, CONVENER_ONLY, ONLY_CONVENER_PRIORITISES)
    phase = _current_phase(solution.cycle_id)
    if phase != Phase.IDENTIFY:
        raise ValidationError(PRIORITISE_ONLY_IN_IDENTIFY.format(phase=phase.label))
    if solution.prioritised == prioritised:
        return solution
    solution.prioritised = prioritised
    solution.save(update_fields=["prioritised"])
    audit_record(
        cycle=solution.cycle,
        actor=actor,
        verb="solution.prioritised" if prioritised else "solution.deprioritised",
        summary=f"{'Prioritised' if prioritised else 'Removed the priority of'} the solution “{solution.title}”",
    )
    return solution

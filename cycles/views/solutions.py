"""Consider (propose solutions), Identify (rate them; results with a chart; the convener prioritises)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST

from core.forms import apply_errors, autofocus_next
from core.pages import login_required, render_page
from cycles import selectors, services
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from cycles.forms import RatingForm, SolutionForm
from cycles.models import Phase, Role, Solution

CONTRIBUTORS = [Role.CONVENER, Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR]


def _can_propose(access) -> bool:
    return access.cycle.phase == Phase.CONSIDER and access.role in CONTRIBUTORS


def _list_context(access, form=None) -> dict:
    cycle = access.cycle
    can_propose = _can_propose(access)
    return {
        "cycle": cycle,
        "access": access,
        "solutions": selectors.solutions_of(cycle),
        "form": form or (SolutionForm() if can_propose else None),
        "can_propose": can_propose,
    }


@login_required
def solutions(request: HttpRequest, slug: str) -> HttpResponse:
    """The candidate solutions; during Consider, contributors propose more here."""
    if request.method == "POST":
        access = get_cycle_for_member(request, slug, roles=CONTRIBUTORS)
        form = SolutionForm(request.POST)
        if form.is_valid():
            try:
                solution = services.solution_propose(cycle=access.cycle, proposed_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Proposed “{solution.title}”.")
                if request.htmx:
                    return render_page(request, "cycles/solutions.html", "solution-section", _list_context(access))
                return redirect("cycles:solutions", slug)
        status = 200 if request.htmx else 400
        return render_page(
            request, "cycles/solutions.html", "solution-section", _list_context(access, form), status=status
        )
    access = get_cycle_for_member(request, slug)
    return render_page(request, "cycles/solutions.html", "solution-section", _list_context(access))


RATINGS_SAVED = "Saved your ratings of {n} solution{s}."
RATINGS_UNCHANGED = "Nothing to save: your ratings are as they were."
RATINGS_NONE_GIVEN = "Nothing to save: score at least one solution."
RATINGS_REFUSED = "Nothing was saved: {n} solution{s} need{verb} both scores (marked below)."


def _rating_rows(access, user, data=None) -> list[tuple]:
    """(solution, the rater's stored rating, its row of the form) for every solution of the cycle.
    With ``data`` (a POST), the rows the person filled in are bound; untouched rows are not."""
    mine = selectors.ratings_by(access.cycle, user)
    rows = []
    for solution in access.cycle.solutions.all():
        rating = mine.get(solution.pk)
        prefix = f"s{solution.pk}"
        if data is not None and any(data.get(f"{prefix}-{name}") for name in RatingForm.base_fields):
            form = RatingForm(data, prefix=prefix)
        else:
            initial = (
                {"impact": rating.impact, "feasibility": rating.feasibility, "comment": rating.comment}
                if rating
                else None
            )
            form = RatingForm(initial=initial, prefix=prefix)
        rows.append((solution, rating, form))
    return rows


def _save_ratings(request: HttpRequest, access, rows: list[tuple]) -> bool:
    """All or nothing: every filled row valid and accepted by the service, or none is saved."""
    filled = [(solution, form) for solution, _rating, form in rows if form.is_bound]
    refused = [form for _solution, form in filled if not form.is_valid()]
    if not filled:
        messages.error(request, RATINGS_NONE_GIVEN)
        return False
    if not refused:
        try:
            changed = services.solutions_rate(
                cycle=access.cycle, rater=request.user, ratings={s: f.cleaned_data for s, f in filled}
            )
        except services.RatingsNotSaved as exc:
            forms = {solution.pk: form for solution, form in filled}
            for pk, error in exc.errors.items():
                apply_errors(forms[pk], error)
                refused.append(forms[pk])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return False
        else:
            n = len(changed)
            messages.success(request, RATINGS_SAVED.format(n=n, s=pluralize(n)) if n else RATINGS_UNCHANGED)
            return True
    autofocus_next(refused[0])  # the first marked row takes the focus, so it is in view
    n = len(refused)
    messages.error(request, RATINGS_REFUSED.format(n=n, s=pluralize(n), verb="" if n > 1 else "s"))
    return False


@login_required
def solution_rate_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Every solution's impact and feasibility in one form, saved with one Save."""
    access = get_cycle_for_member(request, slug, roles=CONTRIBUTORS)
    rows = _rating_rows(access, request.user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if _save_ratings(request, access, rows):
            if not request.htmx:
                return redirect("cycles:solution_rate", slug)
            rows = _rating_rows(access, request.user)
        elif not request.htmx:
            status = 400
    context = {
        "cycle": access.cycle,
        "access": access,
        "rows": rows,
        "open": access.cycle.phase == Phase.IDENTIFY,
        "can_propose": _can_propose(access),
    }
    return render_page(request, "cycles/solution_rate.html", "rating-list", context, status=status)


@login_required
def solution_results(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    results = selectors.solution_results(access.cycle)
    chart = {
        "labels": [r.solution.title for r in results],
        "impact": [r.impact_mean for r in results],
        "feasibility": [r.feasibility_mean for r in results],
    }
    context = {
        "cycle": access.cycle,
        "access": access,
        "results": results,
        "chart": chart,
        "has_ratings": any(r.n for r in results),
        "can_prioritise": access.is_convener and access.cycle.phase == Phase.IDENTIFY,
        "can_propose": _can_propose(access),
        "can_rate": access.cycle.phase == Phase.IDENTIFY and access.role in CONTRIBUTORS,
    }
    return render_page(request, "cycles/solution_results.html", "results-table", context)


@login_required
@require_POST
def solution_prioritise(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    solution = get_object_or_404(Solution, pk=pk, cycle=access.cycle)
    wanted = request.POST.get("prioritised") == "1"
    try:
        services.solution_set_prioritised(solution=solution, prioritised=wanted, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{'Prioritised' if wanted else 'Removed the priority of'} “{solution.title}”.")
    if request.htmx:
        return solution_results(request, slug)
    return redirect("cycles:solution_results", slug)

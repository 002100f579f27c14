"""Consider (propose solutions), Identify (rate them; results with a chart; the convener prioritises)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from core.forms import apply_errors
from core.pages import login_required, render_page
from cycles import selectors, services
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from cycles.forms import RatingForm, SolutionForm
from cycles.models import Phase, Role, Solution

CONTRIBUTORS = [Role.CONVENER, Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR]


def _list_context(access, form=None) -> dict:
    cycle = access.cycle
    can_propose = cycle.phase == Phase.CONSIDER and access.role in CONTRIBUTORS
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


def _get_solution_for_member(request: HttpRequest, slug: str, pk: int, roles=None):
    access = get_cycle_for_member(request, slug, roles=roles)
    return access, get_object_or_404(Solution, pk=pk, cycle=access.cycle)


def _rating_rows(access, user, forms: dict | None = None) -> list[tuple]:
    mine = selectors.ratings_by(access.cycle, user)
    rows = []
    for solution in access.cycle.solutions.all():
        rating = mine.get(solution.pk)
        initial = (
            {"impact": rating.impact, "feasibility": rating.feasibility, "comment": rating.comment} if rating else None
        )
        form = (forms or {}).get(solution.pk) or RatingForm(initial=initial, prefix=f"s{solution.pk}")
        rows.append((solution, rating, form))
    return rows


@login_required
def solution_rate_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug, roles=CONTRIBUTORS)
    context = {
        "cycle": access.cycle,
        "access": access,
        "rows": _rating_rows(access, request.user),
        "open": access.cycle.phase == Phase.IDENTIFY,
    }
    return render_page(request, "cycles/solution_rate.html", "rating-list", context)


@login_required
@require_POST
def solution_rate(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, solution = _get_solution_for_member(request, slug, pk, roles=CONTRIBUTORS)
    form = RatingForm(request.POST, prefix=f"s{solution.pk}")
    saved = False
    if form.is_valid():
        try:
            services.solution_rate(solution=solution, rater=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            saved = True
            messages.success(request, f"Saved your rating of “{solution.title}”.")
    if request.htmx:
        rating = selectors.ratings_by(access.cycle, request.user).get(solution.pk)
        context = {"cycle": access.cycle, "access": access, "open": access.cycle.phase == Phase.IDENTIFY}
        context["row"] = (
            solution,
            rating,
            RatingForm(prefix=f"s{solution.pk}", initial=form.cleaned_data) if saved else form,
        )
        return render_page(request, "cycles/solution_rate.html", "rating-row", context)
    if saved:
        return redirect("cycles:solution_rate", slug)
    context = {
        "cycle": access.cycle,
        "access": access,
        "rows": _rating_rows(access, request.user, {solution.pk: form}),
        "open": access.cycle.phase == Phase.IDENTIFY,
    }
    return render_page(request, "cycles/solution_rate.html", None, context, status=400)


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

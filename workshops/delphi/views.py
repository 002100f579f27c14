"""Delphi pages: thin views that authorise through cycles.access and call the services."""

from __future__ import annotations

import csv
import uuid
from http import HTTPStatus

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.pages import login_required, render_page, safe_next
from core.spreadsheets import cell_safe
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from cycles.models import Role
from workshops.delphi import changes, reminders, selectors, services
from workshops.delphi.appendix import methods_appendix
from workshops.delphi.forms import AppendixForm, DelphiPlanForm, ItemChangeForm, ReminderForm, RoundOpenForm
from workshops.delphi.lineage import change_log
from workshops.join.selectors import join_panel_for_round
from workshops.models import Round
from workshops.realtime import round_ws_path

PLAN_SAVED = "The Delphi plan is saved."
ROUND_OPENED = "Round {number} is open with {items} items."
ROUND_CLOSED = "Round {number} is closed; its results are being computed."
RESULTS_SHOWN = "Group results are now shown to the panel."
RESULTS_HIDDEN = "Group results are hidden from the panel."
DISCUSSING = "The room is discussing {ref} at {level}."
DISCUSSING_STOPPED = "No item is being discussed."
VOTE_SAVED = "Your answer is saved."
APPENDIX_SAVED = "The methods appendix is saved."
ITEM_CHANGED = "{kind}: recorded with its reason; round {number} will ask the changed items."
CHANGE_NOT_SAVED = "Nothing was changed: see the message below."
CHANGE_UNDONE = "{kind}: undone; the items it replaced go to the next round again."
REMINDERS_SAVED = "Reminders saved: {label}."
REMINDERS_OFF = "Reminders are off."
UNSUBSCRIBED = "You will get no more reminders for “{cycle}”."
PRESENTER = "workshops/delphi/presenter.html"
CANT_JUDGE = "cant_judge"  # the form's value for "I can't judge this" (the radio and "Keep my answer")


def _round_for_member(request: HttpRequest, slug: str, number: int, roles=None) -> selectors.RoundAccess:
    return selectors.get_round_for_member(request, slug, number, roles=roles)


def _home_url(slug: str) -> str:
    return reverse("workshops:delphi", args=[slug])


def _done(request: HttpRequest, next_url: str) -> HttpResponse:
    """After a convener's act: back to ``next_url``; for htmx (the presenter) no content — the
    page redraws itself from the round's socket and shows the queued message on its next refresh."""
    if request.htmx:
        return HttpResponse(status=HTTPStatus.NO_CONTENT)
    return redirect(next_url)


@login_required
def delphi_home(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    plan = selectors.plan_for(access.cycle)
    rounds = list(selectors.rounds_of(access.cycle))
    current = rounds[-1] if rounds else None
    context = {
        "cycle": access.cycle,
        "access": access,
        "plan": plan,
        "rounds": rounds,
        "current": current,
        "voting_role_labels": [Role(r).label for r in plan.voting_roles if r in Role.values],
        "can_vote": access.membership is not None and access.role in plan.voting_roles,
        "items_total": selectors.items_count(access.cycle),
        "reminder_label": reminders.reminder_hours_label(plan.reminder_hours or []),
    }
    return render(request, "workshops/delphi/home.html", context)


@login_required
def plan_edit(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    plan = selectors.plan_for(access.cycle)
    if request.method == "POST":
        if plan.is_locked:
            messages.error(request, services.PLAN_LOCKED)
            return redirect(_home_url(slug))
        form = DelphiPlanForm(request.POST)
        if form.is_valid():
            try:
                services.delphi_plan_update(cycle=access.cycle, actor=request.user, **form.service_kwargs())
            except services.DelphiError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, PLAN_SAVED)
                return redirect(_home_url(slug))
        messages.error(request, "The plan was not saved: correct the fields marked below.")
    else:
        form = DelphiPlanForm(initial=DelphiPlanForm.initial_from(plan))
    if plan.is_locked:
        for field in form.fields.values():
            field.disabled = True
    context = {
        "cycle": access.cycle,
        "access": access,
        "plan": plan,
        "form": form,
        "min_shown": selectors.MIN_ANSWERS_SHOWN,
    }
    return render(request, "workshops/delphi/plan.html", context)


@login_required
def round_open(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    plan = selectors.plan_for(access.cycle)
    previous = selectors.current_round(access.cycle)
    proposed_ids = (
        services.round_proposed_item_ids(cycle=access.cycle) if previous is None or previous.aggregated_at else []
    )
    proposed = selectors.items_by_ids(proposed_ids)
    if request.method == "POST":
        form = RoundOpenForm(request.POST, proposed=proposed)
        if form.is_valid():
            chosen = form.cleaned_data["items"] or None
            try:
                rnd = services.round_open(
                    cycle=access.cycle, actor=request.user, deadline=form.cleaned_data["deadline"], item_ids=chosen
                )
            except services.DelphiError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, ROUND_OPENED.format(number=rnd.number, items=selectors.round_item_count(rnd)))
                return redirect("workshops:delphi_round", slug, rnd.number)
        messages.error(request, "The round was not opened: see the message below.")
    else:
        form = RoundOpenForm(initial={"items": [str(i.pk) for i in proposed]}, proposed=proposed)
    context = {
        "cycle": access.cycle,
        "access": access,
        "plan": plan,
        "previous": previous,
        "proposed": proposed,
        "form": form,
        "next_number": (previous.number + 1) if previous else 1,
        "round1_items": selectors.round1_item_count(access.cycle) if previous is None else None,
        "still_open": previous is not None and previous.is_open,
        # Fewer people who may vote than the answers an item needs: no item can reach consensus.
        "panel": len(selectors.voter_ids(access.cycle.pk, plan)),
        "voting_role_labels": _voting_role_labels(plan),
    }
    return render(request, "workshops/delphi/round_open.html", context)


@login_required
def round_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    view = _round_for_member(request, slug, number)
    grid = selectors.round_grid(view=view, user=request.user)
    # The reminder email's link: only the items this panellist has not answered yet.
    if request.GET.get("show") == "unanswered" and view.can_vote:
        grid = selectors.grid_unanswered(grid)
    context = {
        "cycle": view.round.cycle,
        "access": view.access,
        "round": view.round,
        "plan": view.plan,
        "view": view,
        "grid": grid,
        "voter": view.can_vote,
        "can_vote": view.can_vote and view.round.is_open,
        "choices": grid["choices"],
        "offer_cant_judge": grid["offer_cant_judge"],
        "progress": selectors.round_progress(rnd=view.round, plan=view.plan),
        "ws_path": round_ws_path(view.round),
        "voting_role_labels": _voting_role_labels(view.plan),
        "role_label": Role(view.access.role).label if view.access.role in Role.values else "",
        "unanswered_count": grid["total"] - grid["answered"],
        "reminders": reminders.round_reminder_panel(rnd=view.round, plan=view.plan) if view.is_convener else None,
    }
    return render(request, "workshops/delphi/round.html", context)


def _voting_role_labels(plan) -> list[str]:
    return [Role(r).label.lower() + "s" for r in plan.voting_roles if r in Role.values]


@login_required
@require_POST
def round_vote(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """One cell of the grid, without websockets: the same vote_cast the websocket calls."""
    view = _round_for_member(request, slug, number)
    item_id = request.POST.get("item", "")
    value = request.POST.get("keep") or request.POST.get("value", "")
    cant_judge = value == CANT_JUDGE
    rationale = request.POST.get("rationale", "")
    client_id = (request.POST.get("client_id") or "")[:64] or f"http-{uuid.uuid4()}"
    error = None
    try:
        services.vote_cast(
            round_id=view.round.pk,
            panellist=request.user,
            item_id=item_id,
            value=None if cant_judge else value,
            cant_judge=cant_judge,
            rationale=rationale,
            client_id=client_id,
        )
    except services.DelphiError as exc:
        error = exc.message
    if request.htmx:
        grid = selectors.round_grid(view=view, user=request.user)
        cell = selectors.grid_cell(grid, item_id)
        if cell is None:
            return HttpResponse(error or services.ITEM_NOT_IN_ROUND, status=400)
        context = {
            "cycle": view.round.cycle,
            "round": view.round,
            "cell": cell,
            "voter": view.can_vote,
            "can_vote": view.can_vote and view.round.is_open,
            "error": error,
            "saved": error is None,
            "choices": grid["choices"],
            "offer_cant_judge": grid["offer_cant_judge"],
            "answered": grid["answered"],
        }
        return render(request, "workshops/delphi/vote_response.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, VOTE_SAVED)
    return redirect(f"{reverse('workshops:delphi_round', args=[slug, number])}#item-{item_id}")


@login_required
@require_POST
def round_close(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    view = _round_for_member(request, slug, number, roles=[Role.CONVENER])
    if view.round.status == Round.Status.CLOSED:
        messages.info(request, services.ROUND_ALREADY_CLOSED)
    else:
        services.round_close(round_id=view.round.pk, actor=request.user)
        messages.success(request, ROUND_CLOSED.format(number=view.round.number))
    return _done(request, safe_next(request, _home_url(slug)))


@login_required
@require_POST
def round_reveal(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    view = _round_for_member(request, slug, number, roles=[Role.CONVENER])
    revealed = request.POST.get("revealed") == "1"
    services.round_reveal(round_id=view.round.pk, actor=request.user, revealed=revealed)
    messages.success(request, RESULTS_SHOWN if revealed else RESULTS_HIDDEN)
    return _done(request, safe_next(request, reverse("workshops:delphi_facilitator", args=[slug, number])))


@login_required
def facilitator(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    view = _round_for_member(request, slug, number, roles=[Role.CONVENER])
    board = selectors.facilitator_board(rnd=view.round, plan=view.plan)
    context = {
        "cycle": view.round.cycle,
        "access": view.access,
        "round": view.round,
        "plan": view.plan,
        "board": board,
        "ws_path": round_ws_path(view.round),
    }
    template = "workshops/delphi/facilitator.html#board" if request.htmx else "workshops/delphi/facilitator.html"
    return render(request, template, context)


def _render_presenter(request: HttpRequest, view: selectors.RoundAccess) -> HttpResponse:
    """The presenter page, or for htmx its board with the header's controls (out of band)."""
    context = {
        "cycle": view.round.cycle,
        "access": view.access,
        "round": view.round,
        "plan": view.plan,
        "board": selectors.presenter_board(rnd=view.round, plan=view.plan),
        "ws_path": round_ws_path(view.round),
    }
    if not request.htmx:
        context["join"] = join_panel_for_round(request, view.round)
    return render_page(request, PRESENTER, "board", context, oob_partials=("controls",))


@login_required
def presenter(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The projector: the join code, progress by group, live bars, the item under discussion."""
    return _render_presenter(request, _round_for_member(request, slug, number, roles=[Role.CONVENER]))


@login_required
@require_POST
def round_discuss(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Choose the item the room discusses (``item``), or stop (no ``item``). htmx: the presenter's board."""
    view = _round_for_member(request, slug, number, roles=[Role.CONVENER])
    try:
        rnd = services.round_discuss(round_id=view.round.pk, actor=request.user, item_id=request.POST.get("item"))
    except services.DelphiError as error:
        if request.htmx:
            return HttpResponse(error.message, status=400)
        messages.error(request, error.message)
    else:
        if request.htmx:
            return _render_presenter(request, selectors.RoundAccess(round=rnd, plan=view.plan, access=view.access))
        item = rnd.discussing
        message = DISCUSSING.format(ref=item.capability.ref, level=item.role_level.name) if item else DISCUSSING_STOPPED
        messages.success(request, message)
    return redirect(safe_next(request, reverse("workshops:delphi_presenter", args=[slug, number])))


@login_required
def results(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    rows = selectors.consensus_results(cycle=access.cycle, is_convener=access.is_convener)
    context = {
        "cycle": access.cycle,
        "access": access,
        "rows": rows,
        "plan": selectors.plan_for(access.cycle),
        "divergent_count": sum(1 for row in rows if row["divergent"]),
        "min_shown": selectors.MIN_ANSWERS_SHOWN,
    }
    return render(request, "workshops/delphi/results.html", context)


@login_required
def results_csv(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.cycle.slug}-delphi-consensus.csv"'
    writer = csv.writer(response)
    groups = [str(g) for g in selectors.STAKEHOLDER_GROUPS]
    writer.writerow(
        ["capability_ref", "capability", "role_level", "proficiency", "proficiency_label", "outcome", "round",
         "n", "median", "iqr", "agreement", "panel_consensus", "divergent", "divergence", "cant_judge"]
        + [f"{g}_{column}" for g in groups for column in GROUP_CSV_COLUMNS]
    )  # fmt: skip
    # A panellist's download withholds what their results page withholds (items with too few answers).
    for row in selectors.consensus_results(cycle=access.cycle, is_convener=access.is_convener):
        result = row["result"]
        writer.writerow(
            [
                cell_safe(row["item"].ref),
                cell_safe(row["item"].statement),
                cell_safe(row["role_level"].name),
                "" if row["value"] is None else row["value"],
                row["value_label"],
                row["outcome"] or "undecided",
                row["round"] or "",
                result.n if result else "",
                "" if result is None or result.median is None else result.median,
                "" if result is None or result.iqr is None else result.iqr,
                "" if result is None or result.agreement is None else round(result.agreement, 4),
                "" if row["withheld"] or result is None else _yes_no(result.panel_consensus),
                "" if row["withheld"] or result is None else _yes_no(row["divergent"]),
                cell_safe("; ".join(row["divergence"])),
                "" if row["cant_judge"] is None else row["cant_judge"],
                *[cell for group in row["groups"] or _no_groups(groups) for cell in _group_cells(group)],
            ]
        )
    return response


# Per stakeholder group; a group below the anonymity floor has its number of answers only.
GROUP_CSV_COLUMNS = ["n", "median", "iqr", "agreement", "consensus_value", "cant_judge"]


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _no_groups(groups: list[str]) -> list[dict]:
    return [{"n": ""} for _ in groups]


def _group_cells(group: dict) -> list:
    cant_judge = "" if group.get("cant_judge") is None else group["cant_judge"]
    if not group.get("shown"):
        return [group.get("n", ""), "", "", "", "", cant_judge]
    value = group.get("value")
    agreement = group.get("agreement")
    return [
        group["n"],
        group.get("median"),
        group.get("iqr"),
        "" if agreement is None else round(agreement, 4),
        "" if value is None else value,
        cant_judge,
    ]


@login_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    data = selectors.delphi_report(cycle=access.cycle, is_convener=access.is_convener)
    context = {"cycle": access.cycle, "access": access, "min_shown": selectors.MIN_ANSWERS_SHOWN, **data}
    return render(request, "workshops/delphi/report.html", context)


@login_required
def convergence(request: HttpRequest, slug: str) -> HttpResponse:
    """Agreement and IQR by round per item, and the Wilcoxon test of answers moving between rounds."""
    access = get_cycle_for_member(request, slug)
    data = selectors.convergence(cycle=access.cycle, is_convener=access.is_convener)
    context = {
        "cycle": access.cycle,
        "access": access,
        "plan": selectors.plan_for(access.cycle),
        "min_shown": selectors.MIN_ANSWERS_SHOWN,
        **data,
    }
    return render(request, "workshops/delphi/convergence.html", context)


@login_required
def appendix(request: HttpRequest, slug: str) -> HttpResponse:
    """The methods appendix (every member); the convener fills in what the data cannot know."""
    access = get_cycle_for_member(request, slug)
    if request.method == "POST":
        access = get_cycle_for_convener(request, slug)
        form = AppendixForm(request.POST)
        if form.is_valid():
            try:
                services.delphi_appendix_update(cycle=access.cycle, actor=request.user, notes=form.cleaned_data)
            except services.DelphiError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, APPENDIX_SAVED)
                return redirect(reverse("workshops:delphi_appendix", args=[slug]))
    else:
        form = None
    data = methods_appendix(cycle=access.cycle, is_convener=access.is_convener)
    if form is None and access.is_convener:
        form = AppendixForm(initial={note["key"]: note["text"] for note in data["notes"]})
    context = {"cycle": access.cycle, "access": access, "form": form, "ap": data, **data}
    return render(request, "workshops/delphi/appendix.html", context)


@login_required
def appendix_markdown(request: HttpRequest, slug: str) -> HttpResponse:
    """The same appendix as Markdown, to paste into a paper."""
    access = get_cycle_for_member(request, slug)
    data = methods_appendix(cycle=access.cycle, is_convener=access.is_convener)
    response = render(
        request,
        "workshops/delphi/appendix.md",
        {"cycle": access.cycle, **data},
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{access.cycle.slug}-delphi-methods-appendix.md"'
    return response


@login_required
def item_changes(request: HttpRequest, slug: str) -> HttpResponse:
    """Change the items before the next round (reword, split, merge, drop, add, each with a reason)
    and the record of every change so far."""
    access = get_cycle_for_convener(request, slug)
    cycle = access.cycle
    plan = selectors.plan_for(cycle)
    next_number = changes.next_round_number(cycle)
    if next_number is not None and next_number > plan.max_rounds:
        next_number = None
    carried = selectors.items_by_ids(services.round_proposed_item_ids(cycle=cycle)) if next_number else []
    options = {
        "carried": carried,
        "capabilities": selectors.accepted_capabilities(cycle),
        "levels": selectors.role_levels(cycle),
    }
    if request.method == "POST" and "undo" in request.POST:
        try:
            undone = changes.item_change_undo(cycle=cycle, actor=request.user, change_id=request.POST.get("undo"))
        except services.DelphiError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, CHANGE_UNDONE.format(kind=undone.get_kind_display()))
        return redirect(reverse("workshops:delphi_item_changes", args=[slug]))
    if request.method == "POST":
        form = ItemChangeForm(request.POST, **options)
        if form.is_valid():
            try:
                change = changes.item_change(cycle=cycle, actor=request.user, **form.service_kwargs())
            except services.DelphiError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, ITEM_CHANGED.format(kind=change.get_kind_display(), number=next_number))
                return redirect(reverse("workshops:delphi_item_changes", args=[slug]))
        messages.error(request, CHANGE_NOT_SAVED)
    else:
        form = ItemChangeForm(**options)
    context = {
        "cycle": cycle,
        "access": access,
        "form": form,
        "next_number": next_number,
        "current": selectors.current_round(cycle),
        # Changes since the last round can still be undone (no round has asked them).
        "undo_after": next_number - 1 if next_number else None,
        "carried": carried,
        "log": change_log(cycle.pk),
    }
    return render(request, "workshops/delphi/item_changes.html", context)


@login_required
def reminder_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The plan's reminder times (allowed after the plan is locked: they are no rule of the Delphi)."""
    access = get_cycle_for_convener(request, slug)
    plan = selectors.plan_for(access.cycle)
    if request.method == "POST":
        form = ReminderForm(request.POST)
        if form.is_valid():
            plan = reminders.delphi_reminders_update(
                cycle=access.cycle, actor=request.user, hours=form.cleaned_data["hours"]
            )
            label = reminders.reminder_hours_label(plan.reminder_hours)
            messages.success(
                request, REMINDERS_SAVED.format(label=f"{label} before the deadline") if label else REMINDERS_OFF
            )
            return redirect(_home_url(slug))
        messages.error(request, "The reminders were not saved: correct the field marked below.")
    else:
        form = ReminderForm(initial={"hours": reminders.reminder_hours_text(plan.reminder_hours or [])})
    context = {"cycle": access.cycle, "access": access, "plan": plan, "form": form}
    return render(request, "workshops/delphi/reminders.html", context)


# The token is the authority (it went to that person's address only), and RFC 8058 one-click
# unsubscribe has mail clients POST here without a page, so without a CSRF token. GET only asks.
@csrf_exempt
def reminders_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop a cycle's reminders, from the link in a reminder: no sign-in needed."""
    found = reminders.unsubscribe_read(token)
    context = {"found": found, "token": token, "done": False}
    if found is not None and request.method == "POST":
        reminders.reminders_unsubscribe(token=token)
        context["done"] = True
    elif found is not None:
        context["done"] = reminders.is_unsubscribed(cycle_id=found[0].pk, user_id=found[1].pk)
    status = HTTPStatus.OK if found is not None else HTTPStatus.BAD_REQUEST
    return render(request, "workshops/delphi/unsubscribe.html", context, status=status)

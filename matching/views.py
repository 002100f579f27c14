"""Matching pages: frameworks, match runs (create, progress, results, review, threshold), FOP fit
and surplus, and the capability-library endpoints used by the capture page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from core.pages import login_required, stop_polling
from core.readiness import NotReady
from cycles.access import Access, get_cycle_for_member
from cycles.models import Role
from matching import library, selectors, services
from matching.forms import FrameworkImportForm, MatchRunForm, ReviewForm, ThresholdForm
from matching.importers import uploads
from matching.models import Framework, FrameworkImport, MatchReview, MatchRun, Statement
from workshops.models import FOP, Capability

RUN_ROLES = (Role.CONVENER,)
REVIEW_ROLES = (Role.CONVENER, Role.EDUCATOR)


def _get_run_for_member(request, slug: str, run_id: int, roles=None) -> tuple[Access, MatchRun]:
    access = get_cycle_for_member(request, slug, roles=roles)
    run = selectors.run_of_cycle(access.cycle, run_id)
    if run is None:
        raise Http404("No such match run in this cycle.")
    return access, run


def _threshold_param(request, run: MatchRun) -> float:
    raw = request.GET.get("threshold")
    if raw in (None, ""):
        return run.threshold
    try:
        value = float(raw)
    except ValueError:
        return run.threshold
    return min(1.0, max(0.0, value))


@login_required
def frameworks(request: HttpRequest) -> HttpResponse:
    """The imported versions and how far their embedding is; site staff also upload a new version
    here (imported by a worker: the page comes back at once with the import's progress)."""
    can_import = services.can_import_frameworks(request.user)
    if request.method == "POST" and not can_import:
        raise PermissionDenied(services.ONLY_STAFF_IMPORT)
    form = FrameworkImportForm(request.POST or None, request.FILES or None) if can_import else None
    if request.method == "POST":
        if form.is_valid():
            try:
                job = services.framework_import_create(
                    kind=form.cleaned_data["kind"],
                    files=form.cleaned_data["files"],
                    label=form.cleaned_data["label"],
                    actor=request.user,
                )
            except services.MatchingError as exc:
                form.add_error("files", str(exc))
            else:
                messages.success(request, f"{', '.join(job.file_names)}: queued for import.")
                return redirect("matching:framework_import", job_id=job.pk)
        messages.error(request, "Nothing was imported: check the form.")
    versions = selectors.frameworks_with_versions()
    missing = library.missing_reference_corpora()
    # While the worker embeds (a version's statements, or the corpora of an imported O*NET or
    # ESCO version) the table follows it by itself.
    embedding = library.reference_corpora_pending() or any(
        getattr(v, "stored", 0) < getattr(v, "total", 0) for f in versions for v in f.versions.all()
    )
    if request.htmx and request.GET.get("part") == "versions":
        response = render(
            request,
            "matching/frameworks.html#versions",
            {"frameworks": versions, "missing": missing, "embedding": embedding},
        )
        return response if embedding else stop_polling(response)
    return render(
        request,
        "matching/frameworks.html",
        {
            "frameworks": versions,
            "missing": missing,
            "embedding": embedding,
            "form": form,
            "imports": FrameworkImport.objects.select_related("version")[:5] if can_import else [],
            "accepts": [(Framework.Kind(kind).label, text) for kind, text in uploads.ACCEPTS.items()],
        },
        status=400 if request.method == "POST" else 200,
    )


def _import_for_staff(request: HttpRequest, job_id: int) -> FrameworkImport:
    if not services.can_import_frameworks(request.user):
        raise PermissionDenied(services.ONLY_STAFF_IMPORT)
    return get_object_or_404(FrameworkImport.objects.select_related("version__framework", "created_by"), pk=job_id)


@login_required
@require_GET
def framework_import(request: HttpRequest, job_id: int) -> HttpResponse:
    """One import: queued, running (a progress bar and what it is doing), done (then the new
    version's embedding, as the worker stores it) or failed (the importer's message, a retry)."""
    job = _import_for_staff(request, job_id)
    embedding = selectors.version_embedding(job.version) if job.status == FrameworkImport.Status.DONE else None
    context = {"job": job, "embedding": embedding, "can_retry": _can_retry(job)}
    if request.htmx:
        response = render(request, "matching/framework_import.html#status", context)
        settled = job.status == FrameworkImport.Status.FAILED or (
            job.is_finished and not (embedding and embedding["active"])
        )
        return stop_polling(response) if settled else response
    return render(request, "matching/framework_import.html", context)


def _can_retry(job: FrameworkImport) -> bool:
    return job.status == FrameworkImport.Status.FAILED and uploads.available(job.files)


@login_required
@require_POST
def framework_import_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _import_for_staff(request, job_id)
    try:
        services.framework_import_retry(job=job, actor=request.user)
    except services.MatchingError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, "Importing again with the same files.")
    return redirect("matching:framework_import", job_id=job.pk)


@login_required
def runs(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug, roles=RUN_ROLES if request.method == "POST" else None)
    cycle = access.cycle
    form = MatchRunForm(request.POST or None, cycle=cycle)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.match_run_create(cycle=cycle, created_by=request.user, **form.cleaned_data)
        except services.MatchingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Match run {run.pk} against {run.framework_version} is queued.")
            return redirect("matching:run_detail", slug=cycle.slug, run_id=run.pk)
    if request.method == "POST":
        messages.error(request, "The match run was not started: check the form.")
    runs = selectors.runs_for_cycle(cycle)
    return render(
        request,
        "matching/runs.html",
        {
            "cycle": cycle,
            "access": access,
            "runs": runs,
            "form": form,
            "can_run": access.can(*RUN_ROLES),
            "nothing_to_match": not runs.exists() and not selectors.has_capabilities_to_match(cycle),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def run_detail(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id)
    threshold = _threshold_param(request, run)
    context = {
        "cycle": access.cycle,
        "access": access,
        "run": run,
        "threshold": threshold,
        "previewing": abs(threshold - run.threshold) > 1e-9,
        "can_run": access.can(*RUN_ROLES),
        "can_review": access.can(*REVIEW_ROLES),
        "threshold_form": ThresholdForm(initial={"threshold": threshold}),
    }
    if run.status == MatchRun.Status.DONE:
        from matching import calibration

        calibrated = calibration.for_version(run.framework_version)
        precision, recall = calibrated.at_threshold(threshold) if calibrated else (None, None)
        context.update(
            matches=selectors.capability_best_matches(run, threshold),
            priorities=selectors.priority_fops(run, threshold),
            summary=selectors.run_summary(run, threshold),
            calibration=calibrated,
            calibration_pairs=len(calibrated.pairs),
            calibration_sources=(
                f"{calibrated.sources.get('labelled set', 0)} from the hand-labelled set, "
                f"{calibrated.sources.get('reviews', 0)} from educators' reviews"
            ),
            threshold_precision=precision,
            threshold_recall=recall,
        )
        earlier = selectors.previous_version_run(run)
        if earlier is not None:
            context["version_diff"] = selectors.version_diff(earlier, run)
    template = (
        "matching/run_detail.html#results"
        if request.htmx and request.GET.get("part") == "results"
        else "matching/run_detail.html"
    )
    return render(request, template, context)


@login_required
@require_GET
def run_progress(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id)
    if request.htmx and run.is_finished:
        return stop_polling(HttpResponseClientRefresh())  # the finished run's page replaces the progress
    return render(request, "matching/run_detail.html#progress", {"cycle": access.cycle, "run": run})


@login_required
@require_POST
def run_threshold(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id, roles=RUN_ROLES)
    form = ThresholdForm(request.POST)
    if form.is_valid():
        services.match_run_set_threshold(run=run, actor=request.user, threshold=form.cleaned_data["threshold"])
        messages.success(
            request, f"Threshold set to {run.threshold:.2f}; fit and surplus recomputed from the stored scores."
        )
    else:
        messages.error(request, f"The threshold was not changed: {services.THRESHOLD_OUT_OF_RANGE}")
    return redirect("matching:run_detail", slug=access.cycle.slug, run_id=run.pk)


@login_required
@require_POST
def run_rerun(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id, roles=RUN_ROLES)
    if not run.is_finished:
        messages.error(request, "The run is still computing.")
    else:
        services.match_run_rerun(run=run, actor=request.user)
        messages.success(request, "The run is computing again; its results will be replaced when it finishes.")
    return redirect("matching:run_detail", slug=access.cycle.slug, run_id=run.pk)


@login_required
@require_POST
def run_review(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id, roles=REVIEW_ROLES)
    form = ReviewForm(request.POST)
    back = request.POST.get("next") or reverse("matching:run_detail", args=[access.cycle.slug, run.pk])
    if not back.startswith("/"):
        back = reverse("matching:run_detail", args=[access.cycle.slug, run.pk])
    if not form.is_valid():
        messages.error(request, "The review was not recorded: choose confirm or reject for a listed match.")
        return redirect(back)
    capability = get_object_or_404(Capability, pk=form.cleaned_data["capability"], cycle=access.cycle)
    statement = get_object_or_404(Statement, pk=form.cleaned_data["statement"], version=run.framework_version)
    decision = form.cleaned_data["decision"]
    if decision == "clear":
        services.match_review_clear(capability=capability, statement=statement, actor=request.user)
        messages.success(request, f"The decision on {capability.ref} was cleared; the threshold decides again.")
    else:
        services.match_review_record(
            capability=capability,
            statement=statement,
            decision=decision,
            reviewer=request.user,
            note=form.cleaned_data["note"],
        )
        verb = "confirmed" if decision == MatchReview.Decision.CONFIRM else "rejected"
        messages.success(request, f"Match for {capability.ref} {verb}; fit and surplus follow your decision.")
    return redirect(back)


@login_required
@require_GET
def run_capability(request: HttpRequest, slug: str, run_id: int, capability_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id)
    capability = get_object_or_404(Capability, pk=capability_id, cycle=access.cycle)
    results = list(selectors.capability_results(run, capability))
    reviews = selectors.reviews_by_statement(capability, [x.statement_id for x in results])
    window = (run.windows or {}).get(str(capability.pk))
    return render(
        request,
        "matching/run_capability.html",
        {
            "cycle": access.cycle,
            "access": access,
            "run": run,
            "capability": capability,
            "rows": [(r, reviews.get(r.statement_id)) for r in results],
            "window": window,
            "can_review": access.can(*REVIEW_ROLES),
        },
    )


@login_required
@require_GET
def run_fop(request: HttpRequest, slug: str, run_id: int, fop_id: int) -> HttpResponse:
    access, run = _get_run_for_member(request, slug, run_id)
    fop = get_object_or_404(FOP, pk=fop_id, cycle=access.cycle)
    threshold = _threshold_param(request, run)
    entry = (run.fop_snapshot or {}).get(str(fop.pk))
    if entry is None:
        raise Http404("This FOP was not part of the run.")
    return render(
        request,
        "matching/run_fop.html",
        {
            "cycle": access.cycle,
            "access": access,
            "run": run,
            "fop": fop,
            "threshold": threshold,
            "window": entry.get("window"),
            "standards": selectors.fit_surplus(run, fop, threshold, limit=25),
            "matches": selectors.fop_capability_matches(run, fop, threshold),
        },
    )


# --- capability library endpoints (JSON, or an htmx fragment) -----------------------------------


@login_required
@require_GET
def library_search(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    q = request.GET.get("q", "")
    try:
        k = max(1, min(50, int(request.GET.get("k", 10))))
    except ValueError:
        k = 10
    preparing = None
    try:
        hits, took_ms = library.library_search(access.cycle, q, k)
    except NotReady as not_ready:  # the server started a moment ago: the model is still loading
        hits, took_ms, preparing = [], 0.0, not_ready.what
    missing = library.missing_reference_corpora()
    if request.htmx or request.GET.get("format") == "html" or "text/html" in request.headers.get("Accept", ""):
        template = "matching/library.html#results" if request.htmx else "matching/library.html"
        context = {"cycle": access.cycle, "access": access, "q": q, "hits": hits, "took_ms": took_ms}
        return render(request, template, {**context, "missing": missing, "preparing": preparing})
    return JsonResponse(
        {
            "query": q,
            "results": [h.as_dict() for h in hits],
            "took_ms": round(took_ms, 2),
            "not_embedded": missing,
            "preparing": preparing,
        }
    )


def _exclude_param(request) -> int | None:
    try:
        return int(request.GET["exclude"])
    except (KeyError, ValueError):
        return None


@login_required
@require_GET
def library_duplicates(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    q = request.GET.get("q", "")
    duplicates = library.near_duplicates(access.cycle, q, exclude_id=_exclude_param(request))
    if request.htmx:
        return render(request, "matching/library.html#duplicates", {"cycle": access.cycle, "duplicates": duplicates})
    return JsonResponse({"query": q, "duplicates": [d.as_dict() for d in duplicates]})


@login_required
@require_GET
def library_classify(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    q = request.GET.get("q", "")
    suggestion = library.suggest_classification(q, exclude_id=_exclude_param(request))
    if request.htmx:
        return render(
            request, "matching/library.html#classification", {"cycle": access.cycle, "suggestion": suggestion}
        )
    return JsonResponse({"query": q, "suggestion": suggestion})

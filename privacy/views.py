"""Personal data pages: the privacy notice, everyone's own data, a convener's erasure and retention."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.pages import login_required
from cycles.access import Access, get_cycle_for_convener
from cycles.models import Membership
from privacy import selectors, services
from privacy.forms import RetentionForm


@require_GET
def notice(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/notice.html")


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own data as a JSON file (GDPR access and portability)."""
    data = selectors.personal_data(request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="my-foresight-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


def _cycle_context(access: Access, form: RetentionForm) -> dict:
    cycle = access.cycle
    return {
        "cycle": cycle,
        "form": form,
        "memberships": selectors.erasable_members(cycle).order_by("user__display_name", "user__email"),
        "erased_count": Membership.objects.filter(cycle=cycle, user__erased_at__isnull=False).count(),
        "closed_on": selectors.cycle_closed_on(cycle),
        "due_on": selectors.retention_due_on(cycle),
    }


@login_required
def cycle_privacy(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = RetentionForm(initial={"days": access.cycle.retention_days})
    status = 200
    if request.method == "POST":
        form = RetentionForm(request.POST)
        if form.is_valid():
            try:
                services.cycle_retention_set(cycle=access.cycle, actor=request.user, days=form.cleaned_data["days"])
            except ValidationError as exc:
                form.add_error("days", exc)
            else:
                messages.success(request, "The retention period was saved.")
                return redirect("privacy:cycle", slug)
        status = 400
    return render(request, "privacy/cycle.html", _cycle_context(access, form), status=status)


def _get_member_for_convener(request: HttpRequest, slug: str, user_id: int) -> tuple[Access, Membership]:
    access = get_cycle_for_convener(request, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user__organisation"),
        cycle=access.cycle,
        user_id=user_id,
        user__erased_at__isnull=True,
    )
    return access, membership


@login_required
def person_erase(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """GET: what erasing the person means, and whether you may; POST: erase them."""
    access, membership = _get_member_for_convener(request, slug, user_id)
    person = membership.user
    others = selectors.other_cycles_of(person, access.cycle)
    allowed = person != request.user and (
        request.user.is_superuser or selectors.is_convener_of_all(request.user, [access.cycle, *others])
    )
    if request.method == "POST":
        try:
            services.person_erase(person=person, actor=request.user)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect("privacy:person_erase", slug, user_id)
        messages.success(request, "Their personal data was erased; their answers stay, anonymous.")
        return redirect("privacy:cycle", slug)
    context = {
        "cycle": access.cycle,
        "membership": membership,
        "person": person,
        "others": others.count(),
        "allowed": allowed,
    }
    return render(request, "privacy/erase_confirm.html", context)

"""/join: a code typed on a phone (or scanned from the projector) lands a person on the live screen;
the convener's settings of each screen's code."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit

from core.forms import apply_errors
from core.links import site_base
from core.pages import login_required, safe_next
from cycles.access import Access, access_for, get_cycle_for_convener
from cycles.models import Role
from workshops.capture.selectors import capture_workshops
from workshops.delphi.selectors import get_round_for_member
from workshops.join import limits, selectors, services
from workshops.join.codes import LENGTH, normalise, shown
from workshops.join.forms import CODE_HELP, InvitationLinkForm, JoinForm, SettingsForm, SignUpForm
from workshops.models import JoinCode

TOO_MANY = "Too many codes that do not exist were tried from here. Try again in {seconds} seconds."
NOT_INVITED = "You are not a member of “{cycle}”: ask the convener to invite you."
WELCOME = "Welcome to “{cycle}”: you take part as {role}."
CODE_CREATED = "The join code is {code}: show it on the screen."
SETTINGS_SAVED = "The join code's settings are saved."
CODE_REVOKED = "The code {code} no longer works. Make a new code to let people join again."
CODE_RENEWED = "The new code is {code}; the old one no longer works."
LINK_SENT = (
    "If {email} has an invitation to “{cycle}”, its link is on its way: open it on this phone to create your "
    "account, and it brings you straight here."
)
# Each request for an invitation link may send mail: besides the page's limit per address, at most
# this many an hour to one email address.
LINK_RATE_PER_EMAIL = "3/h"


def _code_page(request: HttpRequest, *, typed: str = "", error: str = "", status: int = 200) -> HttpResponse:
    context = {"typed": typed, "error": error, "code_help": CODE_HELP}
    return render(request, "workshops/join/join.html", context, status=status)


def _limited(request: HttpRequest, seconds: int) -> HttpResponse:
    context = {"message": TOO_MANY.format(seconds=seconds), "seconds": seconds}
    response = render(request, "workshops/join/limited.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _find(request: HttpRequest, typed: str) -> JoinCode | HttpResponse:
    """The code, or the page that says why not (no such code, or too many wrong ones: 429)."""
    if wait := limits.person_wait(request):
        return _limited(request, wait)
    code = selectors.code_by_typed(typed)
    if code is None:
        if wait := limits.count_wrong(request):
            return _limited(request, wait)
        wanted = normalise(typed)
        error = (
            selectors.NOT_FOUND.format(code=shown(wanted))
            if len(wanted) == LENGTH
            else selectors.NOT_A_CODE.format(length=LENGTH)
        )
        return _code_page(request, typed=typed, error=error, status=404)
    if not request.user.is_authenticated and (wait := limits.address_wait(request)):
        return _limited(request, wait)
    return code


def join(request: HttpRequest) -> HttpResponse:
    """The short URL people type: one field for the code (a GET form, so it is also a link)."""
    typed = request.GET.get("code", "")
    if not typed.strip():
        return _code_page(request)
    found = _find(request, typed)
    if isinstance(found, HttpResponse):
        return found
    return redirect("join_code", found.code)


def _landing_context(request: HttpRequest, landing: selectors.Landing, **forms) -> dict:
    user = request.user
    context = {"landing": landing, "next": request.path, **forms}
    if not user.is_authenticated:
        context["open"] = landing.code.open_join and not landing.full
        if landing.code.open_join and landing.full:
            context["notice"] = landing.full_message
        context.setdefault("signup", SignUpForm(prefix="signup", group_label=landing.group_label))
        context.setdefault("invited", InvitationLinkForm(prefix="invited"))
        return context
    membership = selectors.membership_of(user, landing.cycle)
    if membership is not None:  # not active: access_for let every active member through already
        context["refusal"] = services.REMOVED.format(cycle=landing.cycle.title)
    elif invitation := selectors.pending_invitation(user, landing.cycle):
        context["invitation"] = invitation
        query = urlencode({"next": request.path})
        context["invitation_url"] = f"{reverse('cycles:invitation_accept', args=[invitation.token])}?{query}"
    elif not landing.code.open_join:
        context["refusal"] = NOT_INVITED.format(cycle=landing.cycle.title)
    elif landing.full:
        context["refusal"] = landing.full_message
    else:
        context["open"] = True
        context.setdefault("join_form", JoinForm())
        context["needs_organisation"] = user.organisation_id is None
    return context


def _welcome(request: HttpRequest, landing: selectors.Landing, membership) -> HttpResponse:
    role = Role(membership.role).label.lower()
    messages.success(request, WELCOME.format(cycle=landing.cycle.title, role=role))
    return redirect(landing.live_url)


def _open_join(request: HttpRequest, landing: selectors.Landing) -> HttpResponse:
    """The sign-up form (no account yet) or the one-click confirmation (signed in, not a member)."""
    code = landing.code
    if not request.user.is_authenticated:
        form = SignUpForm(request.POST, prefix="signup", group_label=landing.group_label)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user, membership = services.join_code_sign_up(
                    code=code,
                    email=data["email"],
                    display_name=data["display_name"],
                    organisation_name=data["organisation_name"],
                    password=data["password1"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return _welcome(request, landing, membership)
        context = _landing_context(request, landing, signup=form)
        return render(request, "workshops/join/landing.html", context, status=400)
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            membership = services.join_code_join(
                code=code, user=request.user, organisation_name=form.cleaned_data["organisation_name"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _welcome(request, landing, membership)
    context = _landing_context(request, landing, join_form=form)
    return render(request, "workshops/join/landing.html", context, status=400)


def _invitation_link(request: HttpRequest, landing: selectors.Landing) -> HttpResponse:
    """An invited person without an account asks for their invitation link again (leading back here)."""
    form = InvitationLinkForm(request.POST, prefix="invited")
    if not form.is_valid():
        context = _landing_context(request, landing, invited=form)
        return render(request, "workshops/join/landing.html", context, status=400)
    email = form.cleaned_data["email"]
    if not is_ratelimited(
        request, group="join.invitation_link", key="post:invited-email", rate=LINK_RATE_PER_EMAIL, increment=True
    ):
        services.join_invitation_link(code=landing.code, email=email, base_url=site_base(request))
    messages.info(request, LINK_SENT.format(email=email, cycle=landing.cycle.title))
    return redirect(request.path)


# Open join creates accounts and the invitation link sends mail. A room of phones shares one address,
# so the limit is generous; the code's expiry and most sign-ups bound the accounts it can make.
@ratelimit(key="ip", rate="60/m", method="POST", block=True)
def join_code(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code's target: members land on the live screen at once; others log in, accept their
    invitation or (open join) sign up first."""
    found = _find(request, code)
    if isinstance(found, HttpResponse):
        return found
    if request.method == "GET" and found.code != code:
        return redirect("join_code", found.code)
    landing = selectors.landing(found)
    is_member = access_for(request.user, landing.cycle) is not None
    if landing.problem:
        context = {"landing": landing, "is_member": is_member}
        return render(request, "workshops/join/landing.html", context, status=410)
    if is_member:
        return redirect(landing.live_url)
    if request.method == "POST" and request.POST.get("action") == "invitation" and not request.user.is_authenticated:
        return _invitation_link(request, landing)
    if request.method == "POST" and landing.code.open_join:
        return _open_join(request, landing)
    context = _landing_context(request, landing)
    refused = "refusal" in context or request.method == "POST"
    return render(request, "workshops/join/landing.html", context, status=403 if refused else 200)


# --- The convener's settings ------------------------------------------------------------------------


def _settings(request: HttpRequest, *, access: Access, code: JoinCode | None, create, title: str, back_url: str):
    here = request.path
    action = request.POST.get("action", "") if request.method == "POST" else ""
    roles = selectors.preset_roles(code) if code is not None else []
    form = SettingsForm(initial=SettingsForm.initial_from(code, roles), roles=roles) if code else None
    status = 200
    if action == "create":
        try:
            code = create()
            if code.revoked_at is not None:  # "show the code" wants one that works
                code = services.join_code_renew(code=code, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(back_url)
        messages.success(request, CODE_CREATED.format(code=shown(code.code)))
        return redirect(safe_next(request, here))
    if action and code is None:
        messages.error(request, "This screen has no join code yet.")
        return redirect(here)
    if action == "save":
        form = SettingsForm(request.POST, roles=roles)
        if form.is_valid():
            try:
                services.join_code_update(code=code, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, SETTINGS_SAVED)
                return redirect(here)
        status = 400
    elif action == "revoke":
        services.join_code_revoke(code=code, actor=request.user)
        messages.success(request, CODE_REVOKED.format(code=shown(code.code)))
        return redirect(here)
    elif action == "renew":
        code = services.join_code_renew(code=code, actor=request.user)
        messages.success(request, CODE_RENEWED.format(code=shown(code.code)))
        return redirect(here)
    context = {
        "cycle": access.cycle,
        "access": access,
        "code": code,
        "form": form,
        "title": title,
        "back_url": back_url,
        "join": selectors.join_panel(request, code),
        "problem": selectors.code_problem(code) if code else "",
        "uses": selectors.sign_ups(code) if code else None,
        "shown": shown(code.code) if code else "",
    }
    return render(request, "workshops/join/settings.html", context, status=status)


@login_required
def round_settings(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    view = get_round_for_member(request, slug, number, roles=[Role.CONVENER])
    rnd = view.round
    return _settings(
        request,
        access=view.access,
        code=selectors.code_for_round(rnd),
        create=lambda: services.join_code_for_round(rnd=rnd, actor=request.user),
        title=f"Delphi round {rnd.number}",
        back_url=reverse("workshops:delphi_round", args=[slug, number]),
    )


@login_required
def workshop_settings(request: HttpRequest, slug: str, workshop_id: int) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    workshop = get_object_or_404(capture_workshops(cycle=access.cycle), pk=workshop_id)
    return _settings(
        request,
        access=access,
        code=selectors.code_for_workshop(workshop),
        create=lambda: services.join_code_for_workshop(workshop=workshop, actor=request.user),
        title=workshop.title,
        back_url=reverse("workshops:capture_workshop", args=[slug, workshop_id]),
    )

"""Members and invitations: the member list, role changes, invitations (one or from CSV), accepting."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.forms import BootstrapMixin, apply_errors, autofocus_next
from core.links import site_base
from core.pages import login_required, render_page, safe_next
from cycles import selectors, services
from cycles.access import get_cycle_for_convener
from cycles.forms import AcceptNewAccountForm, BulkInviteForm, InvitationForm, MembershipRoleForm
from cycles.models import Invitation, Membership


def _members_context(access, **extra) -> dict:
    cycle = access.cycle
    return {
        "cycle": cycle,
        "access": access,
        "memberships": selectors.memberships_of(cycle),
        "invitations": selectors.open_invitations_of(cycle),
        "removed": selectors.removed_memberships_of(cycle),
        "role_choices": MembershipRoleForm.base_fields["role"].choices,
        "invite_form": InvitationForm(),
        **extra,
    }


@login_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    return render_page(request, "cycles/members.html", "member-list", _members_context(access))


def _get_membership_for_convener(request: HttpRequest, slug: str, pk: int):
    access = get_cycle_for_convener(request, slug)
    return access, get_object_or_404(Membership, pk=pk, cycle=access.cycle)


def _get_invitation_for_convener(request: HttpRequest, slug: str, pk: int):
    access = get_cycle_for_convener(request, slug)
    return access, get_object_or_404(Invitation, pk=pk, cycle=access.cycle)


def _back_to_members(request: HttpRequest, access) -> HttpResponse:
    if request.htmx:
        return render_page(request, "cycles/members.html", "member-list", _members_context(access))
    return redirect("cycles:members", access.cycle.slug)


@login_required
@require_POST
def membership_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, membership = _get_membership_for_convener(request, slug, pk)
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            membership.refresh_from_db()
            messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
    return _back_to_members(request, access)


@login_required
@require_POST
def membership_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, membership = _get_membership_for_convener(request, slug, pk)
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Removed {membership.user} from the cycle.")
    return _back_to_members(request, access)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, invitation = _get_invitation_for_convener(request, slug, pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Revoked the invitation of {invitation.email}.")
    return _back_to_members(request, access)


@login_required
@require_POST
def invitation_resend(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, invitation = _get_invitation_for_convener(request, slug, pk)
    try:
        fresh = services.invitation_resend(invitation=invitation, actor=request.user, base_url=site_base(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Sent a new link to {fresh.email}, valid until {fresh.expires_at:%d %B %Y}.")
    return _back_to_members(request, access)


@login_required
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                cycle=access.cycle, invited_by=request.user, base_url=site_base(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"Invited {invitation.email} as {invitation.get_role_display().lower()}. The link is valid until {invitation.expires_at:%d %B %Y}.",
            )
            if request.htmx:
                return render_page(request, "cycles/members.html", "member-list", _members_context(access))
            return redirect("cycles:members", slug)
    context = _members_context(access, invite_form=form)
    status = 200 if request.method == "GET" or request.htmx else 400
    return render_page(request, "cycles/invite.html", "invite-form", context, status=status)


@login_required
def invite_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = BulkInviteForm(request.POST or None, request.FILES or None)
    row_errors = []
    if request.method == "POST" and form.is_valid():
        try:
            created = services.invitations_bulk_create(
                cycle=access.cycle,
                upload=form.cleaned_data["file"],
                invited_by=request.user,
                base_url=site_base(request),
            )
        except services.BulkInviteError as exc:
            row_errors = exc.errors
            messages.error(request, f"Nothing was imported: the file has {len(row_errors)} problem(s), listed below.")
        else:
            messages.success(request, f"Invited {len(created)} people.")
            return redirect("cycles:members", slug)
    context = {"cycle": access.cycle, "access": access, "form": form, "row_errors": row_errors}
    status = 400 if request.method == "POST" else 200
    return render_page(request, "cycles/invite_bulk.html", "bulk-form", context, status=status)


class AcceptLoginForm(BootstrapMixin, AuthenticationForm):
    pass


def _after_accept(request: HttpRequest, membership: Membership) -> str:
    """Where an accepted invitation leads: a page of this site it was opened for (``?next=``, e.g. the
    live screen a join code points to), else the cycle's home."""
    return safe_next(request, reverse("cycles:cycle_detail", args=[membership.cycle.slug]))


def _sso_only_context(request: HttpRequest, cycle) -> dict | None:
    """The provider buttons (and why) when this invitation cannot be accepted with a password."""
    from accounts.sso import SSO_REQUIRED, password_login_enabled, provider_buttons, provider_name

    required = cycle.sign_in_provider
    if not required and password_login_enabled():
        return None
    buttons = [b for b in provider_buttons(request) if not required or b["id"] == required]
    reason = SSO_REQUIRED.format(cycle=cycle.title, provider=provider_name(required)) if required else ""
    return {"sso_only": True, "providers": buttons, "sso_reason": reason}


# The page takes passwords, so it is rate limited like the login page (per address and per account).
@ratelimit(key="ip", rate="20/m", method="POST", block=True)
@ratelimit(key="post:login-username", rate="10/m", method="POST", block=True)
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: logged in → confirm; logged out → create the account or log in."""
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return render(request, "cycles/invitation_accept.html", {"invalid": True}, status=404)
    context: dict = {"invitation": invitation}
    if invitation.status != "pending":
        context["problem"] = services.members.INVITATION_NOT_PENDING.format(status=invitation.status)
        return render(request, "cycles/invitation_accept.html", context, status=410)

    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                membership = services.invitation_accept(invitation=invitation, user=request.user)
            except ValidationError as exc:
                context["problem"] = " ".join(exc.messages)
                return render(request, "cycles/invitation_accept.html", context, status=400)
            messages.success(
                request, f"Welcome to “{membership.cycle.title}” as {membership.get_role_display().lower()}."
            )
            return redirect(_after_accept(request, membership))
        if request.user.email.lower() != invitation.email.lower():
            context["problem"] = services.members.INVITATION_WRONG_ACCOUNT.format(
                invited=invitation.email, current=request.user.email
            )
        return render(request, "cycles/invitation_accept.html", context)

    sso_only = _sso_only_context(request, invitation.cycle)
    if sso_only:
        # No password form: a cycle that requires a provider, or a site with passwords turned off,
        # is joined by signing in with the provider (which accepts the invitation by verified email).
        context.update(sso_only)
        return render(
            request, "cycles/invitation_accept.html", context, status=403 if request.method == "POST" else 200
        )

    has_account = selectors.account_exists(invitation.email)
    # The name the convener typed on the invitation is the sign-up's starting name.
    signup = AcceptNewAccountForm(email=invitation.email, prefix="signup", initial={"display_name": invitation.name})
    login_form = AcceptLoginForm(request, initial={"username": invitation.email}, prefix="login")
    status = 200
    if request.method == "POST" and request.POST.get("action") == "signup" and not has_account:
        signup = AcceptNewAccountForm(request.POST, email=invitation.email, prefix="signup")
        if signup.is_valid():
            try:
                user, membership = services.invitation_accept_new_account(
                    invitation=invitation,
                    display_name=signup.cleaned_data["display_name"],
                    password=signup.cleaned_data["password1"],
                )
            except ValidationError as exc:
                apply_errors(signup, exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Your account is ready. Welcome to “{membership.cycle.title}”.")
                return redirect(_after_accept(request, membership))
        status = 400
    elif request.method == "POST" and request.POST.get("action") == "login":
        login_form = AcceptLoginForm(request, data=request.POST, prefix="login")
        if login_form.is_valid():
            user = login_form.get_user()
            try:
                membership = services.invitation_accept(invitation=invitation, user=user)
            except ValidationError as exc:
                login_form.add_error(None, exc.messages)
            else:
                login(request, user)
                messages.success(
                    request, f"Welcome to “{membership.cycle.title}” as {membership.get_role_display().lower()}."
                )
                return redirect(_after_accept(request, membership))
        status = 400
    if has_account or request.POST.get("action") == "login":
        autofocus_next(login_form, away_from=(signup,))
    else:
        autofocus_next(signup, away_from=(login_form,))
    context |= {"signup": signup, "login_form": login_form, "has_account": has_account}
    return render(request, "cycles/invitation_accept.html", context, status=status)

"""The one place that decides who may see and do what in a cycle.

Every view authorises through ``get_cycle_for_member`` (or a per-object helper built on it): it
returns the cycle and the caller's access, raises Http404 when the caller is not a member (so an
outsider cannot even learn that a cycle exists) and PermissionDenied when a member's role does not
allow the action.

Every service that changes a cycle authorises its actor through ``require_role`` (the same
``access_for`` underneath), so a view, a consumer, a command and a task get the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from cycles.models import Cycle, Membership, Role

NOT_A_MEMBER = "You are not a member of this cycle."
ROLE_NOT_ALLOWED = "Your role in this cycle does not allow this."
# For ``require_role``: the convener's acts, and the refusal naming the act.
CONVENER_ONLY = (Role.CONVENER,)
ONLY_CONVENER = "Only the cycle's convener may {act}."


@dataclass(frozen=True)
class Access:
    cycle: Cycle
    membership: Membership | None
    role: str

    @property
    def is_convener(self) -> bool:
        return self.role == Role.CONVENER

    def can(self, *roles: str) -> bool:
        return self.role in roles


def access_for(user, cycle: Cycle) -> Access | None:
    """The caller's access to a cycle, or None when they have none."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(cycle=cycle, user=user, status=Membership.Status.ACTIVE).first()
    return access_with(user, cycle, membership)


def access_with(user, cycle: Cycle, membership: Membership | None) -> Access | None:
    """``access_for`` given the user's active membership of the cycle (``None``: none), already read."""
    if membership is not None:
        return Access(cycle=cycle, membership=membership, role=membership.role)
    if user.is_superuser:
        # Site administrators act as conveners everywhere (support and recovery).
        return Access(cycle=cycle, membership=None, role=Role.CONVENER)
    return None


def require_role(cycle: Cycle, actor, roles: Iterable[str] | None, message: str) -> None:
    """Refuse (``PermissionDenied(message)``) unless ``actor`` may act in ``cycle`` in one of ``roles``.

    ``actor is None`` is the system (a management command, a Celery task, the demo loader) and is
    always allowed. Anyone else needs what ``access_for`` gives: an active membership with one of
    ``roles`` (``None``: any role), or the convener's access a site administrator has in a cycle
    they are not a member of. ``message`` names what is needed, e.g. "Only the cycle's convener
    may close a round."
    """
    if actor is None:
        return
    access = access_for(actor, cycle)
    if access is None or (roles is not None and access.role not in set(roles)):
        raise PermissionDenied(message)


def get_cycle_for_member(request, slug: str, roles: Iterable[str] | None = None) -> Access:
    cycle = get_object_or_404(Cycle, slug=slug)
    access = access_for(request.user, cycle)
    if access is None:
        raise Http404(NOT_A_MEMBER)
    if roles is not None and access.role not in set(roles):
        raise PermissionDenied(ROLE_NOT_ALLOWED)
    _require_sign_in(request, cycle)
    return access


def sign_in_refused(cycle: Cycle, *, user, signed_in_with: str) -> bool:
    """Whether ``cycle`` turns away a session that signed in by ``signed_in_with``: it requires a
    single sign-on provider and the session used another (site administrators excepted, for
    support and recovery). Pages (``_require_sign_in``) and websockets (workshops.realtime) ask it."""
    return bool(cycle.sign_in_provider) and not user.is_superuser and signed_in_with != cycle.sign_in_provider


def _require_sign_in(request, cycle: Cycle) -> None:
    """A cycle that requires a single sign-on provider opens only to a session signed in with it."""
    from accounts.sso import SignInRequired, signed_in_with

    if sign_in_refused(cycle, user=request.user, signed_in_with=signed_in_with(request)):
        raise SignInRequired(cycle_title=cycle.title, provider_id=cycle.sign_in_provider, next_url=request.path)


def get_cycle_for_convener(request, slug: str) -> Access:
    return get_cycle_for_member(request, slug, roles=[Role.CONVENER])


def cycles_for_user(user):
    """Cycles the user may see, newest first."""
    if not user.is_authenticated:
        return Cycle.objects.none()
    if user.is_superuser:
        return Cycle.objects.all()
    return Cycle.objects.filter(memberships__user=user, memberships__status=Membership.Status.ACTIVE).distinct()


def can_create_cycle(user) -> bool:
    """Site staff and people who already convene a cycle may start a new one."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user, role=Role.CONVENER, status=Membership.Status.ACTIVE).exists()


def password_sign_in_refusal(user, next_url: str) -> str | None:
    """Why a password sign-in on its way to ``next_url`` is refused: the cycle it leads to (one the
    person belongs to, so nobody learns of other cycles) requires a single sign-on provider."""
    from django.urls import Resolver404, resolve

    from accounts.sso import SSO_REQUIRED, provider_name

    if not next_url:
        return None
    try:
        match = resolve(next_url.split("?", 1)[0])
    except Resolver404:
        return None
    slug = match.kwargs.get("slug")
    if not slug:
        return None
    cycle = Cycle.objects.filter(slug=slug).exclude(sign_in_provider="").first()
    if cycle is None or user.is_superuser or access_for(user, cycle) is None:
        return None
    return SSO_REQUIRED.format(cycle=cycle.title, provider=provider_name(cycle.sign_in_provider))

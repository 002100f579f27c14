"""Join codes' writes: a code for each live screen (a Delphi round, a capture workshop), the convener's
settings (open join, expiry, maximum uses, withdraw, a new code) and open join itself.

Open join goes through the one mechanism people join a cycle by: the code issues an invitation with
its preset role and stakeholder group, which the person accepts at once (``cycles.services``), so
they become normal members and count in response rates and attrition by group like everyone else.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import OrganisationGroup, User
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle, Invitation, Membership, Role, Workshop
from cycles.services import invitation_accept, invitation_accept_new_account, invitation_url
from cycles.services.audit import audit_record
from workshops.join import selectors
from workshops.join.codes import new_code, shown
from workshops.models import JoinCode, Round

OPEN_JOIN_OFF = "This code does not let new people sign up: ask the convener for an invitation."
ALREADY_MEMBER = "You are already a member of “{cycle}”."
REMOVED = "You were removed from “{cycle}”: ask the convener if you should take part again."
HAS_INVITATION = "{email} has an invitation to “{cycle}”: use the link in the invitation email to join."
ACCOUNT_EXISTS = "An account already exists for {email}: log in to join."
ROLE_NEEDED = "Choose the role of the people who sign up with the code."
GROUP_NEEDED = "Choose the stakeholder group of the people who sign up with the code."
BAD_ROLE = "People who sign up with this code may take part as {choices}, never as convener."
BAD_GROUP = "Choose one of the stakeholder groups."
EXPIRY_PAST = "The expiry must be in the future."
MAX_USES_LOW = "Allow at least {uses} sign-ups: {uses} people have already used the code."
ORGANISATION_NEEDED = "Enter the organisation you work for: it says which stakeholder group you are counted in."
NOT_A_CAPTURE_WORKSHOP = "Only a capture workshop has a join code."


def _create(*, actor: User | None, **target) -> JoinCode:
    # A clash of two random codes is a one-in-10¹¹ event: draw again rather than fail.
    for _ in range(5):
        try:
            with transaction.atomic():
                return JoinCode.objects.create(code=new_code(), created_by=actor, **target)
        except IntegrityError:
            existing = JoinCode.objects.filter(
                **{k: v for k, v in target.items() if k in ("round", "workshop")}
            ).first()
            if existing is not None:
                return existing
    raise RuntimeError("Could not draw a free join code.")


def _audit(join_code: JoinCode, actor: User | None, verb: str, summary: str, **detail) -> None:
    target = _target_label(join_code)
    audit_record(
        cycle=join_code.cycle_id,
        actor=actor,
        verb=f"join_code.{verb}",
        summary=f"{summary} ({target})",
        detail={"target": target, **detail},
    )


def _target_label(code: JoinCode) -> str:
    if code.round_id is not None:
        return f"Delphi round {code.round.number}"
    return f"workshop “{code.workshop.title}”"


@transaction.atomic
def join_code_for_round(*, rnd: Round, actor: User | None = None) -> JoinCode:
    """The round's join code, created on first need (round_open creates it). A new round's code keeps
    the open-join settings of the cycle's previous round code (the room is the same people), not its
    expiry or its count of uses."""
    existing = selectors.code_for_round(rnd)
    if existing is not None:
        return existing
    require_role(rnd.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="create a join code"))
    previous = JoinCode.objects.filter(round__cycle=rnd.cycle, round__number__lt=rnd.number).order_by("-round__number")
    carried = previous.values("open_join", "role", "group", "max_uses").first() or {}
    code = _create(actor=actor, cycle=rnd.cycle, round=rnd, **carried)
    _audit(code, actor, "created", "Created a join code" + (" with open join" if code.open_join else ""))
    return code


@transaction.atomic
def join_code_for_workshop(*, workshop: Workshop, actor: User | None = None) -> JoinCode:
    """The capture workshop's join code, created when the convener first shows it."""
    existing = selectors.code_for_workshop(workshop)
    if existing is not None:
        return existing
    require_role(workshop.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="create a join code"))
    if workshop.kind != Workshop.Kind.TECHNOLOGIST:
        raise ValidationError(NOT_A_CAPTURE_WORKSHOP)
    code = _create(actor=actor, cycle=workshop.cycle, workshop=workshop)
    _audit(code, actor, "created", "Created a join code")
    return code


# --- The convener's settings ----------------------------------------------------------------------


def _locked(code: JoinCode) -> JoinCode:
    # Lock the code's row only: round and workshop are nullable, and PostgreSQL refuses FOR UPDATE
    # on the nullable side of the outer join that select_related makes of them.
    return JoinCode.objects.select_for_update(of=("self",)).select_related("cycle", "round", "workshop").get(pk=code.pk)


def _describe(code: JoinCode) -> str:
    if not code.open_join:
        return "open join off"
    parts = [f"open join as {Role(code.role).label} in the {OrganisationGroup(code.group).label} group"]
    if code.max_uses is not None:
        parts.append(f"at most {code.max_uses} sign-ups")
    if code.expires_at is not None:
        parts.append(f"until {timezone.localtime(code.expires_at):%d %b %Y %H:%M}")
    return ", ".join(parts)


@transaction.atomic
def join_code_update(
    *,
    code: JoinCode,
    actor: User | None,
    open_join: bool,
    role: str = "",
    group: str = "",
    expires_at: datetime | None = None,
    max_uses: int | None = None,
) -> JoinCode:
    """The convener's settings of a code: open join (with the preset role and stakeholder group), the
    expiry (the code stops working for everyone) and the most sign-ups it allows."""
    code = _locked(code)
    require_role(code.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change a join code"))
    errors: dict[str, str] = {}
    roles = selectors.preset_roles(code)
    if role and role not in roles:
        errors["role"] = BAD_ROLE.format(choices=" or ".join(Role(r).label.lower() for r in roles))
    elif open_join and not role:
        errors["role"] = ROLE_NEEDED
    if group and group not in OrganisationGroup.values:
        errors["group"] = BAD_GROUP
    elif open_join and not group:
        errors["group"] = GROUP_NEEDED
    if expires_at is not None and expires_at != code.expires_at and expires_at <= timezone.now():
        errors["expires_at"] = EXPIRY_PAST
    if max_uses is not None and max_uses < max(code.uses, 1):
        errors["max_uses"] = MAX_USES_LOW.format(uses=code.uses)
    if errors:
        raise ValidationError(errors)
    fields = {"open_join": open_join, "role": role, "group": group, "expires_at": expires_at, "max_uses": max_uses}
    changed = {name: value for name, value in fields.items() if getattr(code, name) != value}
    if not changed:
        return code
    for name, value in changed.items():
        setattr(code, name, value)
    code.save(update_fields=list(changed))
    detail = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changed.items()}
    _audit(code, actor, "changed", f"Join code {shown(code.code)}: {_describe(code)}", changed=detail)
    return code


@transaction.atomic
def join_code_revoke(*, code: JoinCode, actor: User | None) -> JoinCode:
    """Withdraw the code: it stops working for everyone (a new code can replace it)."""
    code = _locked(code)
    require_role(code.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="withdraw a join code"))
    if code.revoked_at is None:
        code.revoked_at = timezone.now()
        code.save(update_fields=["revoked_at"])
        _audit(code, actor, "revoked", f"Withdrew the join code {shown(code.code)}", code=code.code)
    return code


@transaction.atomic
def join_code_renew(*, code: JoinCode, actor: User | None) -> JoinCode:
    """A new code for the same screen and settings: the old one stops working; uses count afresh."""
    code = _locked(code)
    require_role(code.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="renew a join code"))
    old = code.code
    for _ in range(5):
        candidate = new_code()
        if not JoinCode.objects.filter(code=candidate).exists():
            break
    else:  # pragma: no cover - five clashes in a 5 × 10¹¹ space
        raise RuntimeError("Could not draw a free join code.")
    code.code, code.revoked_at, code.uses = candidate, None, 0
    code.save(update_fields=["code", "revoked_at", "uses"])
    _audit(code, actor, "renewed", f"Replaced the join code {shown(old)} by {shown(code.code)}", old=old, new=code.code)
    return code


# --- Open join ---------------------------------------------------------------------------------------


def _claim_use(code: JoinCode) -> JoinCode:
    """Count one sign-up, exactly once even under concurrent requests, or say why the code is refused."""
    now = timezone.now()
    claimed = (
        JoinCode.objects.filter(pk=code.pk, open_join=True, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    code.refresh_from_db()
    if claimed != 1:
        landing = selectors.landing(code)
        raise ValidationError(landing.problem or (landing.full_message if landing.full else OPEN_JOIN_OFF))
    return code


def _check_open(code: JoinCode) -> None:
    """The code lets new people in now: open join on, usable, its screen live."""
    landing = selectors.landing(code)
    if landing.problem:
        raise ValidationError(landing.problem)
    if not code.open_join:
        raise ValidationError(OPEN_JOIN_OFF)
    if landing.full:
        raise ValidationError(landing.full_message)


def _invitation_for(code: JoinCode, *, email: str, name: str, organisation_name: str) -> Invitation:
    """The invitation the code issues to one person, accepted at once by the caller (so no email)."""
    now = timezone.now()
    # As cycles' invitations do: an expired, never-used invitation no longer counts.
    Invitation.objects.filter(
        cycle=code.cycle, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
    ).update(revoked_at=now)
    if Invitation.objects.filter(
        cycle=code.cycle, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists():
        # Never hand a convener's invitation (perhaps for another role) to whoever types its address.
        raise ValidationError({"email": HAS_INVITATION.format(email=email, cycle=code.cycle.title)})
    return Invitation.objects.create(
        cycle=code.cycle,
        email=email,
        role=code.role,
        name=name.strip(),
        organisation_name=organisation_name.strip(),
        group=code.group,
        invited_by=code.created_by,
        expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
    )


def _audit_use(code: JoinCode, user: User, how: str) -> None:
    uses = f"{code.uses} of {code.max_uses}" if code.max_uses is not None else str(code.uses)
    _audit(
        code,
        user,
        "used",
        f"{user} joined with the join code {shown(code.code)} as {Role(code.role).label}{how} (use {uses})",
        user=user.email,
        role=code.role,
        group=code.group,
    )


@transaction.atomic
def join_code_sign_up(
    *, code: JoinCode, email: str, display_name: str, organisation_name: str, password: str
) -> tuple[User, Membership]:
    """Open join for someone without an account: their account, with the code's preset role; the
    organisation, if new, in the code's stakeholder group."""
    code = _locked(code)
    _check_open(code)
    email = (email or "").strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ACCOUNT_EXISTS.format(email=email)})
    if not organisation_name.strip():
        raise ValidationError({"organisation_name": ORGANISATION_NEEDED})
    invitation = _invitation_for(code, email=email, name=display_name, organisation_name=organisation_name)
    code = _claim_use(code)
    user, membership = invitation_accept_new_account(
        invitation=invitation, display_name=display_name, password=password
    )
    _audit_use(code, user, " (new account)")
    return user, membership


@transaction.atomic
def join_code_join(*, code: JoinCode, user: User, organisation_name: str = "") -> Membership:
    """Open join for a signed-in person who is not a member: the code's preset role. Their group is
    their organisation's; someone without one names it (a new one goes in the code's group)."""
    code = _locked(code)
    _check_open(code)
    cycle: Cycle = code.cycle
    membership = selectors.membership_of(user, cycle)
    if membership is not None and membership.status == Membership.Status.ACTIVE:
        raise ValidationError(ALREADY_MEMBER.format(cycle=cycle.title))
    if membership is not None:
        raise ValidationError(REMOVED.format(cycle=cycle.title))
    if user.organisation_id is None and not organisation_name.strip():
        raise ValidationError({"organisation_name": ORGANISATION_NEEDED})
    invitation = _invitation_for(
        code,
        email=user.email,
        name=user.display_name,
        organisation_name=organisation_name if not user.organisation_id else "",
    )
    code = _claim_use(code)
    membership = invitation_accept(invitation=invitation, user=user)
    _audit_use(code, user, "")
    return membership


def join_invitation_link(*, code: JoinCode, email: str, base_url: str | None = None) -> bool:
    """Email an invited person without an account their invitation link again, leading back to the
    code once they have accepted it (``?next=``), so they land on the live screen. False when the
    address has no open invitation to the code's cycle (the page says the same either way)."""
    email = (email or "").strip().lower()
    invitation = (
        Invitation.objects.filter(
            cycle=code.cycle,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("cycle", "invited_by")
        .first()
    )
    if not email or invitation is None or selectors.code_problem(code):
        return False
    url = f"{invitation_url(invitation, base_url)}?{urlencode({'next': reverse('join_code', args=[code.code])})}"
    send_mail(
        subject=f"Your invitation to “{invitation.cycle.title}”",
        message=render_to_string("cycles/email/invitation.txt", {"invitation": invitation, "url": url}),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True

"""People in a cycle: memberships, roles, invitations (single, bulk from CSV) and accepting them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, OrganisationGroup, User
from core.links import site_base
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle, Invitation, Membership, Role
from cycles.services.audit import audit_record

ALREADY_MEMBER = "{email} is already a member of this cycle."
ALREADY_INVITED = "{email} already has a pending invitation to this cycle."
INVITATION_NOT_PENDING = "This invitation has been {status} and can no longer be used."
INVITATION_WRONG_ACCOUNT = (
    "This invitation was sent to {invited}, but you are logged in as {current}. "
    "Log out and open the link again, or ask the convener to invite this address."
)
ACCOUNT_EXISTS = "An account already exists for {email}: log in to accept the invitation."
LAST_CONVENER = "A cycle needs at least one convener: appoint another convener first."
UNKNOWN_ROLE = "“{value}” is not a role (use one of: {choices})."
UNKNOWN_GROUP = "“{value}” is not a group (use one of: {choices})."
CSV_TOO_LARGE = "The file is larger than {limit} KB."
CSV_NOT_CSV = "The file must be a CSV file (.csv)."
CSV_NOT_UTF8 = "The file is not UTF-8 text: save it as “CSV UTF-8” and try again."
CSV_MISSING_COLUMNS = "The header row must name the columns {columns}; missing: {missing}."
CSV_EMPTY = "The file has no invitation rows."
CSV_TOO_MANY_ROWS = "The file has {rows} rows; at most {limit} can be invited at once."
CSV_DUPLICATE_IN_FILE = "{email} appears more than once in the file (first on row {first})."
CSV_COLUMNS = ("name", "email", "organisation", "group", "role")
CSV_MAX_ROWS = 500


def _pending_invitations(cycle: Cycle):
    return Invitation.objects.filter(
        cycle=cycle, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def _normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _active_convener_count(cycle: Cycle) -> int:
    return cycle.memberships.filter(role=Role.CONVENER, status=Membership.Status.ACTIVE).count()


# --- Memberships ------------------------------------------------------------------------------


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User | None) -> Membership:
    membership = Membership.objects.select_for_update().select_related("user", "cycle").get(pk=membership.pk)
    require_role(membership.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change a member's role"))
    if role not in Role.values:
        raise ValidationError({"role": UNKNOWN_ROLE.format(value=role, choices=", ".join(Role.values))})
    if membership.role == role:
        return membership
    if membership.role == Role.CONVENER and _active_convener_count(membership.cycle) <= 1:
        raise ValidationError(LAST_CONVENER)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        cycle=membership.cycle,
        actor=actor,
        verb="membership.role_changed",
        summary=f"Changed {membership.user}'s role from {Role(before).label} to {Role(role).label}",
        detail={"user": membership.user.email, "from": before, "to": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None) -> Membership:
    membership = Membership.objects.select_for_update().select_related("user", "cycle").get(pk=membership.pk)
    require_role(membership.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="remove a member"))
    if membership.status == Membership.Status.REMOVED:
        return membership
    if membership.role == Role.CONVENER and _active_convener_count(membership.cycle) <= 1:
        raise ValidationError(LAST_CONVENER)
    membership.status = Membership.Status.REMOVED
    membership.save(update_fields=["status"])
    audit_record(
        cycle=membership.cycle,
        actor=actor,
        verb="membership.removed",
        summary=f"Removed {membership.user} ({Role(membership.role).label}) from the cycle",
        detail={"user": membership.user.email, "role": membership.role},
    )
    return membership


def _join(*, cycle: Cycle, user: User, role: str, actor, via: str) -> Membership:
    membership = Membership.objects.select_for_update().filter(cycle=cycle, user=user).first()
    if membership is None:
        membership = Membership.objects.create(cycle=cycle, user=user, role=role)
    else:
        before = (membership.role, membership.status)
        membership.role, membership.status, membership.joined_at = role, Membership.Status.ACTIVE, timezone.now()
        membership.save(update_fields=["role", "status", "joined_at"])
        if before[1] == Membership.Status.ACTIVE and before[0] != role:
            via += f" (role {before[0]} → {role})"
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="membership.joined",
        summary=f"{user} joined as {Role(role).label} {via}",
        detail={"user": user.email, "role": role},
    )
    return membership


# --- Invitations ------------------------------------------------------------------------------


def invitation_url(invitation: Invitation, base_url: str | None = None) -> str:
    """The invitation's link on ``base_url`` (the address the convener used), else core.links.site_base."""
    return (base_url or site_base()).rstrip("/") + reverse("cycles:invitation_accept", args=[invitation.token])


def invitation_send_email(*, invitation_id: int, base_url: str | None = None) -> bool:
    """Email the invitation link once; False when it was already sent or is no longer pending.

    Idempotent (a retried task sends nothing twice): the row is claimed with a conditional update.
    """
    claimed = Invitation.objects.filter(
        pk=invitation_id, email_sent_at__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(email_sent_at=timezone.now())
    if not claimed:
        return False
    invitation = Invitation.objects.select_related("cycle", "invited_by").get(pk=invitation_id)
    context = {"invitation": invitation, "url": invitation_url(invitation, base_url)}
    try:
        send_mail(
            subject=f"Invitation to the foresighting cycle “{invitation.cycle.title}”",
            message=render_to_string("cycles/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except Exception:
        # Let a retry send it: release the claim, then re-raise for the task's retry policy.
        Invitation.objects.filter(pk=invitation_id).update(email_sent_at=None)
        raise
    return True


def _enqueue_email(invitation_id: int, base_url: str | None) -> None:
    from cycles.tasks import send_invitation_email

    # robust: a mail server failure in eager mode is logged, never turned into an error page.
    transaction.on_commit(lambda: send_invitation_email.delay(invitation_id, base_url), robust=True)


def _check_invitable(cycle: Cycle, email: str) -> str | None:
    """The reason ``email`` cannot be invited to ``cycle`` now, or None."""
    if Membership.objects.filter(cycle=cycle, user__email__iexact=email, status=Membership.Status.ACTIVE).exists():
        return ALREADY_MEMBER.format(email=email)
    if _pending_invitations(cycle).filter(email__iexact=email).exists():
        return ALREADY_INVITED.format(email=email)
    return None


def _create_invitation(
    *,
    cycle: Cycle,
    email: str,
    role: str,
    invited_by: User | None,
    name: str,
    organisation_name: str,
    group: str,
    base_url: str | None,
) -> Invitation:
    # An expired, never-used invitation no longer counts: close it so the one-open-invitation rule holds.
    Invitation.objects.filter(
        cycle=cycle,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    invitation = Invitation.objects.create(
        cycle=cycle,
        email=email,
        role=role,
        name=name.strip(),
        organisation_name=organisation_name.strip(),
        group=group,
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    _enqueue_email(invitation.pk, base_url)
    return invitation


@transaction.atomic
def invitation_create(
    *,
    cycle: Cycle,
    email: str,
    role: str,
    invited_by: User | None,
    name: str = "",
    organisation_name: str = "",
    group: str = "",
    base_url: str | None = None,
) -> Invitation:
    """Invite one person by email; refused if they are already a member or already invited.
    ``invited_by`` is the actor (``None``: the system); ``base_url`` is the site address the email
    links to (the request's; SITE_URL when configured)."""
    require_role(cycle, invited_by, CONVENER_ONLY, ONLY_CONVENER.format(act="invite people"))
    email = _normalise_email(email)
    validate_email(email)
    if role not in Role.values:
        raise ValidationError({"role": UNKNOWN_ROLE.format(value=role, choices=", ".join(Role.values))})
    if group and group not in OrganisationGroup.values:
        raise ValidationError({"group": UNKNOWN_GROUP.format(value=group, choices=", ".join(OrganisationGroup.values))})
    problem = _check_invitable(cycle, email)
    if problem:
        raise ValidationError({"email": problem})
    try:
        with transaction.atomic():
            invitation = _create_invitation(
                cycle=cycle,
                email=email,
                role=role,
                invited_by=invited_by,
                name=name,
                organisation_name=organisation_name,
                group=group,
                base_url=base_url,
            )
    except IntegrityError as exc:  # a concurrent request invited the same address first
        raise ValidationError({"email": ALREADY_INVITED.format(email=email)}) from exc
    audit_record(
        cycle=cycle,
        actor=invited_by,
        verb="invitation.sent",
        summary=f"Invited {email} as {Role(role).label}",
        detail={"email": email, "role": role},
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User | None) -> Invitation:
    require_role(invitation.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="revoke an invitation"))
    updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db()
    if not updated:
        raise ValidationError(INVITATION_NOT_PENDING.format(status=invitation.status))
    audit_record(
        cycle=invitation.cycle,
        actor=actor,
        verb="invitation.revoked",
        summary=f"Revoked the invitation of {invitation.email} ({Role(invitation.role).label})",
        detail={"email": invitation.email, "role": invitation.role},
    )
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User | None, base_url: str | None = None) -> Invitation:
    """Replace a pending or expired invitation with a fresh link (new token, new expiry); the old link stops working."""
    require_role(invitation.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="resend an invitation"))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(INVITATION_NOT_PENDING.format(status=invitation.status))
    problem = None
    if Membership.objects.filter(
        cycle=invitation.cycle, user__email__iexact=invitation.email, status=Membership.Status.ACTIVE
    ).exists():
        problem = ALREADY_MEMBER.format(email=invitation.email)
    if problem:
        raise ValidationError(problem)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    fresh = _create_invitation(
        cycle=invitation.cycle,
        email=invitation.email,
        role=invitation.role,
        invited_by=actor,
        name=invitation.name,
        organisation_name=invitation.organisation_name,
        group=invitation.group,
        base_url=base_url,
    )
    audit_record(
        cycle=invitation.cycle,
        actor=actor,
        verb="invitation.resent",
        summary=f"Sent a new invitation link to {invitation.email} ({Role(invitation.role).label})",
        detail={"email": invitation.email, "role": invitation.role},
    )
    return fresh


def _claim(invitation: Invitation, user: User) -> Invitation:
    """Mark the invitation used, exactly once even under concurrent requests."""
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now, accepted_by=user)
    invitation.refresh_from_db()
    if claimed != 1:
        raise ValidationError(INVITATION_NOT_PENDING.format(status=invitation.status))
    return invitation


def _organisation_for(invitation: Invitation) -> Organisation | None:
    if not invitation.organisation_name:
        return None
    organisation, _ = Organisation.objects.get_or_create(
        name=invitation.organisation_name, defaults={"group": invitation.group or OrganisationGroup.INDUSTRY}
    )
    return organisation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """A logged-in user accepts an invitation sent to their own address."""
    if invitation.status != "pending":
        raise ValidationError(INVITATION_NOT_PENDING.format(status=invitation.status))
    if _normalise_email(user.email) != _normalise_email(invitation.email):
        raise ValidationError(INVITATION_WRONG_ACCOUNT.format(invited=invitation.email, current=user.email))
    invitation = _claim(invitation, user)
    if user.organisation_id is None:
        organisation = _organisation_for(invitation)
        if organisation is not None:
            user.organisation = organisation
            user.save(update_fields=["organisation"])
    return _join(cycle=invitation.cycle, user=user, role=invitation.role, actor=user, via="by invitation")


def pending_invitation_exists(email: str) -> bool:
    """Whether someone invited ``email`` to any cycle (and the invitation is still open)."""
    return Invitation.objects.filter(
        email__iexact=_normalise_email(email),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists()


def invitations_accept_for_sso(*, user: User, email: str) -> list[Membership]:
    """Accept every open invitation sent to ``email``, whose owner an identity provider has just
    verified (the proof the emailed link would give). Only for the account with that address."""
    if _normalise_email(user.email) != _normalise_email(email):
        return []
    joined = []
    pending = Invitation.objects.filter(
        email__iexact=_normalise_email(email),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("cycle")
    for invitation in pending.order_by("created_at"):
        try:
            joined.append(invitation_accept(invitation=invitation, user=user))
        except ValidationError:
            continue  # taken by a concurrent request, or the address is already a member: not an error
    return joined


@transaction.atomic
def invitation_accept_new_account(
    *, invitation: Invitation, display_name: str, password: str
) -> tuple[User, Membership]:
    """Create the invited person's account (with the invited address) and accept the invitation."""
    if invitation.status != "pending":
        raise ValidationError(INVITATION_NOT_PENDING.format(status=invitation.status))
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(ACCOUNT_EXISTS.format(email=invitation.email))
    user = User.objects.create_user(
        email=invitation.email,
        password=password,
        display_name=display_name.strip() or invitation.name,
        organisation=_organisation_for(invitation),
    )
    invitation = _claim(invitation, user)
    membership = _join(
        cycle=invitation.cycle, user=user, role=invitation.role, actor=user, via="by invitation (new account)"
    )
    return user, membership


# --- Bulk invitations from CSV ----------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line number in the file, the header being row 1
    field: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.field}: {self.message}"


class BulkInviteError(ValidationError):
    """The CSV was rejected; ``errors`` lists every problem with its row and field. Nothing was created."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])


def _read_csv(upload) -> list[dict[str, str]]:
    name = getattr(upload, "name", "") or ""
    if not name.lower().endswith(".csv"):
        raise BulkInviteError([RowError(0, "file", CSV_NOT_CSV)])
    limit = settings.MAX_UPLOAD_BYTES
    if getattr(upload, "size", 0) > limit:
        raise BulkInviteError([RowError(0, "file", CSV_TOO_LARGE.format(limit=limit // 1024))])
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise BulkInviteError([RowError(0, "file", CSV_TOO_LARGE.format(limit=limit // 1024))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BulkInviteError([RowError(0, "file", CSV_NOT_UTF8)]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise BulkInviteError(
            [
                RowError(
                    1, "header", CSV_MISSING_COLUMNS.format(columns=", ".join(CSV_COLUMNS), missing=", ".join(missing))
                )
            ]
        )
    reader.fieldnames = header
    rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if not rows:
        raise BulkInviteError([RowError(0, "file", CSV_EMPTY)])
    if len(rows) > CSV_MAX_ROWS:
        raise BulkInviteError([RowError(0, "file", CSV_TOO_MANY_ROWS.format(rows=len(rows), limit=CSV_MAX_ROWS))])
    return rows


@transaction.atomic
def invitations_bulk_create(
    *, cycle: Cycle, upload: IO[bytes] | bytes, invited_by: User | None, base_url: str | None = None
) -> list[Invitation]:
    """Invite everyone in a CSV (name, email, organisation, group, role): all rows, or none.
    ``invited_by`` is the actor (``None``: the system)."""
    require_role(cycle, invited_by, CONVENER_ONLY, ONLY_CONVENER.format(act="invite people"))
    rows = _read_csv(upload)
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    valid = []
    for number, row in enumerate(rows, start=2):
        email = _normalise_email(row.get("email", ""))
        role = row.get("role", "").lower()
        group = row.get("group", "").lower()
        row_errors = []
        try:
            validate_email(email)
        except ValidationError:
            row_errors.append(RowError(number, "email", f"“{row.get('email', '')}” is not a valid email address."))
        if role not in Role.values:
            row_errors.append(
                RowError(number, "role", UNKNOWN_ROLE.format(value=row.get("role", ""), choices=", ".join(Role.values)))
            )
        if group and group not in OrganisationGroup.values:
            row_errors.append(
                RowError(
                    number,
                    "group",
                    UNKNOWN_GROUP.format(value=row.get("group", ""), choices=", ".join(OrganisationGroup.values)),
                )
            )
        if len(row.get("name", "")) > 150:
            row_errors.append(RowError(number, "name", "The name is longer than 150 characters."))
        if len(row.get("organisation", "")) > 200:
            row_errors.append(RowError(number, "organisation", "The organisation is longer than 200 characters."))
        if not row_errors:
            if email in seen:
                row_errors.append(
                    RowError(number, "email", CSV_DUPLICATE_IN_FILE.format(email=email, first=seen[email]))
                )
            else:
                problem = _check_invitable(cycle, email)
                if problem:
                    row_errors.append(RowError(number, "email", problem))
        seen.setdefault(email, number)
        errors.extend(row_errors)
        if not row_errors:
            valid.append((email, role, group, row))
    if errors:
        raise BulkInviteError(errors)
    invitations = [
        _create_invitation(
            cycle=cycle,
            email=email,
            role=role,
            invited_by=invited_by,
            name=row.get("name", ""),
            organisation_name=row.get("organisation", ""),
            group=group,
            base_url=base_url,
        )
        for email, role, group, row in valid
    ]
    audit_record(
        cycle=cycle,
        actor=invited_by,
        verb="invitation.bulk_sent",
        summary=f"Invited {len(invitations)} people from a CSV file",
        detail={"emails": [i.email for i in invitations]},
    )
    return invitations

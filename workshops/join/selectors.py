"""Join codes' reads: what the projector shows (the code, the short URL, the QR) and where a code
leads (its live screen, or why it leads nowhere)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import OrganisationGroup, User
from core.links import site_base
from cycles.models import WORKSHOP_ROLES, Cycle, Invitation, Membership, Role, Workshop
from workshops.join.codes import ALPHABET, LENGTH, normalise, qr_svg, shown
from workshops.models import DelphiPlan, JoinCode, Round

NOT_FOUND = "No live session has the code {code}: check the code on the screen."
NOT_A_CODE = "A join code has {length} letters and digits, like K7QM 2XPA: check the code on the screen."
REVOKED = "The code {code} was withdrawn by the convener: check the code on the screen."
EXPIRED = "The code {code} expired on {when}: check the code on the screen."
ROUND_CLOSED = "Round {number} of “{cycle}” is closed: answers can no longer change."
FULL = "The code {code} has been used by as many people as the convener allowed ({max_uses}): ask the convener."

# The stakeholder group a preset role most often goes with (the settings page's first suggestion).
GROUP_FOR_ROLE = {
    Role.TECHNOLOGIST: OrganisationGroup.TECHNOLOGY,
    Role.EMPLOYER: OrganisationGroup.INDUSTRY,
    Role.EDUCATOR: OrganisationGroup.SKILLS,
    Role.OBSERVER: OrganisationGroup.SPONSOR,
}


# --- The projector ------------------------------------------------------------------------------


def join_panel(request: HttpRequest | None, code: JoinCode | None) -> dict | None:
    """The code as the room sees it: ``{"code", "shown", "join_url", "join_host", "code_url", "qr_svg",
    "open_join"}``; None for no code, or one that no longer works (revoked)."""
    if code is None or code.revoked_at is not None:
        return None
    base = site_base(request)
    code_url = base + reverse("join_code", args=[code.code])
    return {
        "code": code.code,
        "shown": shown(code.code),
        "join_url": base + reverse("join"),
        "join_host": (base + reverse("join")).split("://", 1)[-1],
        "code_url": code_url,
        "qr_svg": qr_svg(code_url),
        "open_join": code.open_join,
    }


def join_panel_for_round(request: HttpRequest | None, rnd: Round) -> dict | None:
    return join_panel(request, code_for_round(rnd))


def join_panel_for_workshop(request: HttpRequest | None, workshop: Workshop) -> dict | None:
    return join_panel(request, code_for_workshop(workshop))


def code_for_round(rnd: Round) -> JoinCode | None:
    return JoinCode.objects.filter(round=rnd).first()


def code_for_workshop(workshop: Workshop) -> JoinCode | None:
    return JoinCode.objects.filter(workshop=workshop).first()


# --- Where a code leads ---------------------------------------------------------------------------


def looks_like_code(typed: str) -> bool:
    code = normalise(typed)
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def code_by_typed(typed: str) -> JoinCode | None:
    """The code someone typed or scanned (any case, spaces or dashes), or None."""
    if not looks_like_code(typed):
        return None
    return JoinCode.objects.select_related("cycle", "round", "workshop").filter(code=normalise(typed)).first()


@dataclass(frozen=True)
class Landing:
    """Where a code leads: its cycle, the live screen, and what stops everyone using it (``problem``)."""

    code: JoinCode
    cycle: Cycle
    title: str  # "Delphi round 2" or the workshop's title
    live_url: str
    problem: str = ""
    results_url: str = ""  # a closed round's results, for its members

    @property
    def shown(self) -> str:
        return shown(self.code.code)

    @property
    def full(self) -> bool:
        return self.code.max_uses is not None and self.code.uses >= self.code.max_uses

    @property
    def full_message(self) -> str:
        return FULL.format(code=self.shown, max_uses=self.code.max_uses)

    @property
    def role_label(self) -> str:
        return Role(self.code.role).label if self.code.role in Role.values else ""

    @property
    def group_label(self) -> str:
        return OrganisationGroup(self.code.group).label if self.code.group in OrganisationGroup.values else ""


def code_problem(code: JoinCode) -> str:
    """Why the code itself works for no one now (withdrawn, expired), or ""."""
    if code.revoked_at is not None:
        return REVOKED.format(code=shown(code.code))
    if code.expires_at is not None and code.expires_at <= timezone.now():
        when = date_format(timezone.localtime(code.expires_at), "j F Y, H:i")
        return EXPIRED.format(code=shown(code.code), when=when)
    return ""


def landing(code: JoinCode) -> Landing:
    cycle = code.cycle
    problem = code_problem(code)
    if code.round_id is not None:
        rnd = code.round
        results_url = ""
        if not problem and not rnd.is_open:
            problem = ROUND_CLOSED.format(number=rnd.number, cycle=cycle.title)
            results_url = reverse("workshops:delphi_results", args=[cycle.slug])
        return Landing(
            code=code,
            cycle=cycle,
            title=f"Delphi round {rnd.number}",
            live_url=reverse("workshops:delphi_round", args=[cycle.slug, rnd.number]),
            problem=problem,
            results_url=results_url,
        )
    workshop = code.workshop
    return Landing(
        code=code,
        cycle=cycle,
        title=workshop.title,
        live_url=reverse("workshops:capture_workshop", args=[cycle.slug, workshop.pk]),
        problem=problem,
    )


def membership_of(user: User, cycle: Cycle) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(cycle=cycle, user=user).first()


def pending_invitation(user: User, cycle: Cycle) -> Invitation | None:
    """The signed-in person's own open invitation to the cycle (sent to their address), if any."""
    if not user.is_authenticated:
        return None
    return (
        Invitation.objects.filter(
            cycle=cycle,
            email__iexact=user.email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


# --- The convener's settings ------------------------------------------------------------------------


def preset_roles(code: JoinCode) -> list[str]:
    """The roles open join may give: a round's voting roles, a capture workshop's own roles. Never
    the convener's."""
    if code.round_id is not None:
        plan = DelphiPlan.objects.filter(cycle_id=code.cycle_id).first()
        roles = list(plan.voting_roles) if plan else [Role.TECHNOLOGIST, Role.EMPLOYER]
    else:
        roles = list(WORKSHOP_ROLES.get(code.workshop.kind) or (Role.TECHNOLOGIST,))
    return [str(r) for r in roles if r in Role.values and r != Role.CONVENER]


def sign_ups(code: JoinCode) -> dict:
    """What the settings page says about use: ``{"uses", "max_uses", "left"}``."""
    left = None if code.max_uses is None else max(code.max_uses - code.uses, 0)
    return {"uses": code.uses, "max_uses": code.max_uses, "left": left}

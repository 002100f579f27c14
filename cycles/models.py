"""A foresighting cycle: its phases, people, candidate solutions and the Prepare-phase set-up."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import OrganisationGroup


class Phase(models.IntegerChoices):
    CONSIDER = 1, "Consider"
    IDENTIFY = 2, "Identify"
    PREPARE = 3, "Prepare"
    CARRY_OUT = 4, "Carry out"
    COMMUNICATE = 5, "Communicate"
    CAUSE_ACTION = 6, "Cause action"


class Role(models.TextChoices):
    CONVENER = "convener", "Convener"
    TECHNOLOGIST = "technologist", "Technologist"
    EMPLOYER = "employer", "Employer"
    EDUCATOR = "educator", "Educator"
    OBSERVER = "observer", "Observer"


class Cycle(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=300)
    challenge = models.TextField(help_text="The what: the problem this cycle answers.")
    challenge_when = models.CharField(max_length=120, blank=True, help_text="The when: the horizon, e.g. 'by 2030'.")
    sector = models.CharField(max_length=200, blank=True)
    technology_focus = models.CharField(max_length=400, blank=True)
    sponsor = models.CharField(max_length=200, blank=True)
    convener_organisation = models.CharField(max_length=200, blank=True)
    centre_of_innovation = models.CharField(max_length=200, blank=True)
    phase = models.PositiveSmallIntegerField(choices=Phase.choices, default=Phase.CONSIDER)
    # Facts transcribed from a published report (headline figures, tag frequencies, notes).
    published_facts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Personal data of a closed cycle (Cause action ended on the timeline) is erased this many days
    # after it closed, by the scheduled task privacy.tasks.erase_due_personal_data; empty: kept.
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days after the cycle closes (the end of Cause action) before its members' personal data is erased.",
    )
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    # Members must sign in through this single sign-on provider (an id of OIDC_PROVIDERS or
    # SAML_PROVIDERS) to open the cycle; a password sign-in to it is refused (cycles.access).
    sign_in_provider = models.CharField(
        "required sign-in",
        max_length=40,
        blank=True,
        help_text="Members must sign in with this single sign-on provider to open the cycle. Empty: any sign-in.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class PhasePlan(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="phase_plans")
    phase = models.PositiveSmallIntegerField(choices=Phase.choices)
    planned_start = models.DateField(null=True, blank=True)
    planned_end = models.DateField(null=True, blank=True)
    actual_start = models.DateField(null=True, blank=True)
    actual_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["cycle", "phase"]
        constraints = [models.UniqueConstraint(fields=["cycle", "phase"], name="unique_phase_per_cycle")]

    def __str__(self) -> str:
        return f"{self.cycle} – {self.get_phase_display()}"

    def clean(self) -> None:
        if self.planned_start and self.planned_end and self.planned_start > self.planned_end:
            raise ValidationError({"planned_end": "The planned end is before the planned start."})
        if self.actual_start and self.actual_end and self.actual_start > self.actual_end:
            raise ValidationError({"actual_end": "The actual end is before the actual start."})

    @property
    def is_overdue(self) -> bool:
        today = timezone.localdate()
        return bool(self.planned_end and self.planned_end < today and not self.actual_end)


class Membership(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REMOVED = "removed", "Removed"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "role", "user__email"]
        constraints = [models.UniqueConstraint(fields=["cycle", "user"], name="one_membership_per_cycle")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.cycle}"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    group = models.CharField(max_length=20, choices=OrganisationGroup.choices, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Services close an expired invitation before re-inviting, so "open" here means pending.
            models.UniqueConstraint(
                fields=["cycle", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.cycle} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class AuditEvent(models.Model):
    """Who did what, when, to a cycle: phase changes, membership and role changes, and more."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=60)
    summary = models.CharField(max_length=400)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary


class Theme(models.Model):
    """A capability theme named by the cycle's report (e.g. 'Automation & robotics at scale')."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="themes")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["cycle", "number"]
        constraints = [models.UniqueConstraint(fields=["cycle", "number"], name="unique_theme_number")]

    def __str__(self) -> str:
        return self.title


class CycleOrganisation(models.Model):
    """An organisation that took part in a cycle, in a stakeholder group (as the reports list them)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=20, choices=OrganisationGroup.choices)

    class Meta:
        ordering = ["cycle", "group", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "organisation", "group"], name="unique_cycle_organisation_group")
        ]


class Solution(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="solutions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prioritised = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cycle", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["cycle", "title"], name="unique_solution_title")]

    def __str__(self) -> str:
        return self.title


class SolutionRating(models.Model):
    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    impact = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    feasibility = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["solution", "rater"], name="one_rating_per_solution"),
            models.CheckConstraint(condition=models.Q(impact__gte=1, impact__lte=5), name="impact_1_5"),
            models.CheckConstraint(condition=models.Q(feasibility__gte=1, feasibility__lte=5), name="feasibility_1_5"),
        ]


class SupplyChainPartner(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["cycle", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["cycle", "name"], name="unique_partner_name")]

    def __str__(self) -> str:
        return self.name


class RoleLevel(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="role_levels")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    academic_level_min = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(2), MaxValueValidator(7)]
    )
    academic_level_max = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(2), MaxValueValidator(7)]
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["cycle", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "name"], name="unique_role_level_name"),
            models.CheckConstraint(
                condition=models.Q(academic_level_min__lte=models.F("academic_level_max")),
                name="role_level_min_le_max",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.academic_level_min is not None
            and self.academic_level_max is not None
            and self.academic_level_min > self.academic_level_max
        ):
            raise ValidationError({"academic_level_max": "The highest academic level must not be below the lowest."})


class Workshop(models.Model):
    class Kind(models.TextChoices):
        TECHNOLOGIST = "technologist", "Technologist workshop"
        EMPLOYER = "employer", "Employer workshop"
        EDUCATOR = "educator", "Educator workshop"
        PLENARY = "plenary", "Plenary"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="workshops")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="Europe/London")
    place = models.CharField(max_length=300, blank=True)
    video_link = models.URLField(blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["cycle", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")), name="workshop_starts_before_end"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValidationError({"ends_at": "The workshop must end after it starts."})


# Which member roles each workshop kind needs (the Carry out guard checks they are invited).
WORKSHOP_ROLES: dict[str, tuple[str, ...]] = {
    Workshop.Kind.TECHNOLOGIST: (Role.TECHNOLOGIST,),
    Workshop.Kind.EMPLOYER: (Role.EMPLOYER,),
    Workshop.Kind.EDUCATOR: (Role.EDUCATOR,),
    Workshop.Kind.PLENARY: (),
}

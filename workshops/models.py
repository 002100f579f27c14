"""Carry out: capabilities and their classification, Delphi rounds, FOPs and KSB tags."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core.jobs import BackgroundJob
from cycles.models import Cycle, RoleLevel, SupplyChainPartner, Workshop


class Proficiency(models.IntegerChoices):
    NOT_NEEDED = 0, "Not needed"
    AWARENESS = 1, "Awareness"
    PRACTITIONER = 2, "Practitioner"
    EXPERT = 3, "Expert"


PROFICIENCY_CODES = {0: "N", 1: "A", 2: "P", 3: "E"}  # N: Not needed (never "–", which reads as "no answer")


# --- Classification taxonomy (data, not code) ---------------------------------------------------


class Function(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class FunctionalDomain(models.Model):
    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["function__order", "name"]
        constraints = [models.UniqueConstraint(fields=["function", "name"], name="unique_domain_per_function")]

    def __str__(self) -> str:
        return f"{self.function} › {self.name}"


class FunctionalArea(models.Model):
    domain = models.ForeignKey(FunctionalDomain, on_delete=models.CASCADE, related_name="areas")
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["domain__function__order", "domain__name", "name"]
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="unique_area_per_domain")]

    def __str__(self) -> str:
        return f"{self.domain} › {self.name}"


# --- Capabilities -------------------------------------------------------------------------------


class Capability(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        MERGED = "merged", "Merged"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="capabilities")
    ref = models.CharField(max_length=20, help_text="Short reference within the cycle, e.g. C01.")
    statement = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    rejection_reason = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_sources"
    )
    function = models.ForeignKey(Function, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    domain = models.ForeignKey(FunctionalDomain, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    area = models.ForeignKey(FunctionalArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    partners = models.ManyToManyField(SupplyChainPartner, blank=True, related_name="capabilities")
    workshop = models.ForeignKey(
        Workshop, null=True, blank=True, on_delete=models.SET_NULL, related_name="capabilities"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    highlighted = models.BooleanField(default=False)
    highlight_reason = models.TextField(blank=True)
    # The provision a published report printed for this capability (demo cycles only).
    published_provision = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cycle", "ref", "id"]
        verbose_name_plural = "capabilities"
        constraints = [models.UniqueConstraint(fields=["cycle", "ref"], name="unique_capability_ref")]

    def __str__(self) -> str:
        return f"{self.ref} {self.statement[:60]}"


# --- Delphi proficiency rounds ------------------------------------------------------------------


class DelphiPlan(models.Model):
    class FeedbackMode(models.TextChoices):
        CLASSIC = "classic", "After the round closes (classic)"
        LIVE = "live", "Live (real-time Delphi)"

    cycle = models.OneToOneField(Cycle, on_delete=models.CASCADE, related_name="delphi_plan")
    voting_roles = models.JSONField(
        default=list, help_text="Member roles that vote, e.g. ['technologist', 'employer']."
    )
    min_responses = models.PositiveSmallIntegerField(default=3)
    agreement_threshold = models.FloatField(default=0.70, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    iqr_max = models.FloatField(default=1.0)
    stability_threshold = models.FloatField(default=0.15, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    max_rounds = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    feedback_mode = models.CharField(max_length=10, choices=FeedbackMode.choices, default=FeedbackMode.CLASSIC)
    live_quorum = models.PositiveSmallIntegerField(
        default=0, help_text="Answers an item needs before its live distribution is shown (0: always)."
    )
    allow_cant_judge = models.BooleanField(
        default=False,
        help_text="Panellists may answer “I can't judge this”: counted and reported, left out of the statistics.",
    )
    require_group_consensus = models.BooleanField(
        default=False,
        help_text="An item is agreed only when every stakeholder group with at least 3 answers reaches "
        "consensus on the panel's value.",
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # Hours before a round's deadline at which panellists who have not finished are emailed (e.g.
    # [72, 24]). Not a rule of the Delphi: the convener may change it after the plan is locked.
    reminder_hours = models.JSONField(default=list, blank=True)
    # What the methods appendix cannot know from the data (funding, conflicts of interest, protocol
    # registration, ethics): the convener writes it, also after the plan is locked.
    appendix_notes = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Delphi plan of {self.cycle}"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_live(self) -> bool:
        return self.feedback_mode == self.FeedbackMode.LIVE


class DelphiItem(models.Model):
    """One thing the panel votes on: a capability at a role level."""

    class Outcome(models.TextChoices):
        CONSENSUS = "consensus", "Consensus"
        STABLE = "stable", "Stable without consensus"
        NO_CONSENSUS = "no_consensus", "No consensus at the last round"
        # Set between rounds by the convener (ItemChange), never by the aggregation.
        REPLACED = "replaced", "Reworded, split or merged between rounds"
        DROPPED = "dropped", "Dropped between rounds"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="delphi_items")
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="delphi_items")
    role_level = models.ForeignKey(RoleLevel, on_delete=models.CASCADE, related_name="delphi_items")
    # The statement asked, when the convener reworded, split, merged or added it between rounds
    # (empty: the capability's own statement). Its lineage is in ItemChange.
    wording = models.TextField(blank=True)
    # Outcome once the Delphi has settled on this item.
    consensus_value = models.PositiveSmallIntegerField(choices=Proficiency.choices, null=True, blank=True)
    outcome = models.CharField(
        max_length=20,
        blank=True,
        choices=Outcome.choices,
    )
    outcome_round = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["cycle", "capability__ref", "role_level__order", "role_level_id"]
        # One original item per capability × role level; items written between rounds share them.
        constraints = [
            models.UniqueConstraint(
                fields=["capability", "role_level"], condition=models.Q(wording=""), name="unique_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ref} × {self.role_level}"

    @property
    def statement(self) -> str:
        """What the panel is asked about: the item's own wording, else its capability's statement."""
        return self.wording or self.capability.statement

    @property
    def ref(self) -> str:
        """The capability's reference, marked when the item has wording of its own (C05′)."""
        return f"{self.capability.ref}′" if self.wording else self.capability.ref


class Round(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class CloseReason(models.TextChoices):
        CONVENER = "convener", "Closed by the convener"
        DEADLINE = "deadline", "Closed at the deadline"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    items = models.ManyToManyField(DelphiItem, related_name="rounds", blank=True)
    workshop = models.ForeignKey(Workshop, null=True, blank=True, on_delete=models.SET_NULL, related_name="rounds")
    opened_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=10, choices=CloseReason.choices, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    results_revealed = models.BooleanField(default=False)
    # The item the convener is discussing in the room (presenter mode); panellists' phones may jump to it.
    discussing = models.ForeignKey(DelphiItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    aggregated_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every committed change so snapshots carry a sequence number.
    sequence = models.BigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["cycle", "number"]
        constraints = [models.UniqueConstraint(fields=["cycle", "number"], name="unique_round_number")]

    def __str__(self) -> str:
        return f"Round {self.number} of {self.cycle}"

    @property
    def is_past_deadline(self) -> bool:
        return self.deadline is not None and self.deadline <= timezone.now()

    @property
    def is_open(self) -> bool:
        """Open for answers: an open round past its deadline reads as closed everywhere, although the
        row closes only when the scheduled task, the command, the next vote or the convener closes it
        (a page view never writes)."""
        return self.status == self.Status.OPEN and not self.is_past_deadline

    @property
    def shown_status(self) -> str:
        """The status every screen and the socket show: an open round past its deadline reads closed."""
        return self.Status.CLOSED if self.status == self.Status.OPEN and self.is_past_deadline else self.status

    @property
    def status_label(self) -> str:
        return self.Status(self.shown_status).label


class ItemChange(models.Model):
    """One change to the items between two rounds, with the convener's reason: ``sources`` are the
    items of round ``after_round`` it replaces (none for an added item), ``results`` the items
    asked from round ``after_round + 1`` (none for a dropped one). An item's lineage is read from
    these rows (``workshops.delphi.lineage``); the wordings are frozen as they were."""

    class Kind(models.TextChoices):
        REWORD = "reword", "Reworded"
        SPLIT = "split", "Split"
        MERGE = "merge", "Merged"
        DROP = "drop", "Dropped"
        ADD = "add", "Added"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="delphi_item_changes")
    after_round = models.PositiveSmallIntegerField(help_text="The round whose results preceded the change.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField()
    sources = models.ManyToManyField(DelphiItem, related_name="changes_out", blank=True)
    results = models.ManyToManyField(DelphiItem, related_name="changes_in", blank=True)
    before = models.JSONField(default=list, blank=True, help_text="The sources' wordings.")
    after = models.JSONField(default=list, blank=True, help_text="The results' wordings.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "after_round", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} after round {self.after_round}"


class ReminderSent(models.Model):
    """One reminder email to one panellist for one reminder time of a round. The row is written
    (claimed) before the email goes out, under a unique constraint, so two schedulers or a retried
    task never send it twice; ``status`` says whether the send then worked."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="reminders")
    panellist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    hours_before = models.PositiveIntegerField()
    unanswered = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["round", "-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "panellist", "hours_before"], name="one_reminder_per_time")
        ]


class ReminderOptOut(models.Model):
    """A panellist who unsubscribed from a cycle's Delphi reminders (by the link in a reminder)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="delphi_reminder_opt_outs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "user"], name="one_reminder_opt_out")]


class JoinCode(models.Model):
    """A short code (and its QR) that lands a person on a live screen: a Delphi round or a capture
    workshop. Members join at once; with ``open_join``, anyone holding the code may sign up by email
    and becomes a normal member with the preset role and stakeholder group (workshops/join/)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="join_codes")
    code = models.CharField(max_length=12, unique=True)
    round = models.OneToOneField(Round, null=True, blank=True, on_delete=models.CASCADE, related_name="join_code")
    workshop = models.OneToOneField(Workshop, null=True, blank=True, on_delete=models.CASCADE, related_name="join_code")
    open_join = models.BooleanField(default=False)
    role = models.CharField(max_length=20, blank=True, help_text="The role of people who sign up with the code.")
    group = models.CharField(max_length=20, blank=True, help_text="Their stakeholder group.")
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Exactly one of round and workshop is set: workshops/join/services.py creates every code. Not a
    # database CHECK: a cycle import (findings/portability.py) inserts rows with their nullable keys
    # empty and fills them in a second pass.

    def __str__(self) -> str:
        return self.code


# Either a proficiency 0–3, or "I can't judge this" and no value: never both, never neither.
VALUE_OR_CANT_JUDGE = models.Q(cant_judge=False, value__isnull=False, value__gte=0, value__lte=3) | models.Q(
    cant_judge=True, value__isnull=True
)


class Vote(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="votes")
    item = models.ForeignKey(DelphiItem, on_delete=models.CASCADE, related_name="votes")
    panellist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delphi_votes")
    # A proficiency 0–3, or none with ``cant_judge`` ("I can't judge this", where the plan allows it).
    value = models.PositiveSmallIntegerField(choices=Proficiency.choices, null=True, blank=True)
    cant_judge = models.BooleanField(default=False)
    rationale = models.TextField(blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "item", "panellist"], name="one_vote_per_item_panellist"),
            models.CheckConstraint(condition=VALUE_OR_CANT_JUDGE, name="vote_value_0_3_or_cant_judge"),
        ]
        indexes = [models.Index(fields=["round", "panellist"])]


class VoteReceipt(models.Model):
    """The acknowledgement sent for one client id, so a resent vote is answered, not counted, again."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="receipts")
    panellist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=64)
    item = models.ForeignKey(DelphiItem, on_delete=models.CASCADE, related_name="+")
    value = models.PositiveSmallIntegerField(choices=Proficiency.choices, null=True, blank=True)
    cant_judge = models.BooleanField(default=False)
    rationale = models.TextField(blank=True)
    sequence = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "panellist", "client_id"], name="one_receipt_per_client_id")
        ]


class ItemResult(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(DelphiItem, on_delete=models.CASCADE, related_name="results")
    n = models.PositiveIntegerField()
    counts = models.JSONField(default=list, help_text="Answers per value 0–3.")
    median = models.FloatField(null=True)
    q1 = models.FloatField(null=True)
    q3 = models.FloatField(null=True)
    iqr = models.FloatField(null=True)
    agreement = models.FloatField(null=True)
    modal_value = models.PositiveSmallIntegerField(null=True)
    consensus = models.BooleanField(default=False)
    consensus_value = models.PositiveSmallIntegerField(null=True)
    changed_share = models.FloatField(null=True, help_text="Share of panellists who changed since the previous round.")
    n_both = models.PositiveIntegerField(
        default=0, help_text="Panellists who answered the item in this and the previous round."
    )
    stable = models.BooleanField(default=False)
    group_counts = models.JSONField(default=dict, blank=True, help_text="Answers per value 0–3 by stakeholder group.")
    # "I can't judge this" answers: counted here, left out of n and every statistic.
    cant_judge = models.PositiveIntegerField(default=0)
    group_cant_judge = models.JSONField(default=dict, blank=True, help_text="Can't-judge answers by stakeholder group.")
    # The consensus rule met by the panel as a whole; ``consensus`` adds the plan's every-group requirement.
    panel_consensus = models.BooleanField(default=False)
    group_stats = models.JSONField(
        default=dict, blank=True, help_text="The consensus rule applied to each stakeholder group (3+ answers)."
    )
    divergence = models.JSONField(default=list, blank=True, help_text="Why the stakeholder groups diverge, if they do.")
    divergent = models.BooleanField(default=False)
    # Did the answers move since the previous round? Wilcoxon signed-rank on the n_both paired answers.
    wilcoxon_statistic = models.FloatField(null=True, blank=True)
    wilcoxon_p = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["round", "item"]
        constraints = [models.UniqueConstraint(fields=["round", "item"], name="one_result_per_round_item")]


# --- Future Occupational Profiles -----------------------------------------------------------


class FOPProposalRun(BackgroundJob):
    """One proposal run: queued by the convener's form, computed by the ``propose_fops`` Celery task
    (the ``propose_fops`` command computes it at once). Status and progress: BackgroundJob."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="fop_proposal_runs")
    parameters = models.JSONField(default=dict)
    # What the run computed: counts, model, timings, replaced and kept FOPs.
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class FOP(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        IN_REVIEW = "in_review", "In review"
        RATIFIED = "ratified", "Ratified"
        RETURNED = "returned", "Returned"

    class Source(models.TextChoices):
        PUBLISHED = "published", "Published report"
        PROPOSED = "proposed", "Proposed by the algorithm"
        MANUAL = "manual", "Created by hand"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="fops")
    role_level = models.ForeignKey(RoleLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="fops")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    priority = models.BooleanField(default=False)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    proposal_run = models.ForeignKey(
        FOPProposalRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="fops"
    )
    suggested_names = models.JSONField(default=list, blank=True)
    # The reviewer's comment when a FOP is returned (also kept in the history).
    status_comment = models.TextField(blank=True)
    # Hash of the newest history entry, so a deleted last entry shows too.
    history_hash = models.CharField(max_length=64, blank=True)
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="fops_to_review")
    capabilities = models.ManyToManyField(Capability, through="FOPCapability", related_name="fops")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cycle", "name", "id"]
        verbose_name = "FOP"

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """How every page names this FOP: its name, with its role level when another FOP of the
        cycle has the same name (the rule: ``workshops.fops.selectors.fop_labels``). Lists set it
        for all their FOPs in one query (``selectors.with_labels``); alone, it costs one."""
        if "_label" not in self.__dict__:
            from workshops.fops.selectors import cycle_fop_labels  # noqa: PLC0415 - selectors import models

            self._label = cycle_fop_labels(self.cycle_id).get(self.pk, self.name) if self.pk else self.name
        return self._label

    @label.setter
    def label(self, value: str) -> None:
        self._label = value

    @property
    def label_suffix(self) -> str:
        """What the label adds to the name (" — Senior"), so a narrow heading can shorten the name only."""
        label = self.label
        return label[len(self.name) :] if label.startswith(self.name) else ""


class FOPCapability(models.Model):
    fop = models.ForeignKey(FOP, on_delete=models.CASCADE, related_name="entries")
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="fop_entries")
    proficiency = models.PositiveSmallIntegerField(choices=Proficiency.choices)

    class Meta:
        ordering = ["fop", "capability__ref"]
        constraints = [
            models.UniqueConstraint(fields=["fop", "capability"], name="unique_fop_capability"),
            models.CheckConstraint(
                condition=models.Q(proficiency__gte=1, proficiency__lte=3), name="fop_proficiency_1_3"
            ),
        ]


class FOPChange(models.Model):
    """One recorded change to a FOP. Entries form a hash chain so an edited history shows."""

    fop = models.ForeignKey(FOP, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who, as a name frozen at the time (the hash covers it, so removing a user keeps history valid).
    actor_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40)
    field = models.CharField(max_length=60, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["fop", "created_at", "id"]


# --- Knowledge, Skill and Behaviour tags --------------------------------------------------------


class TagKind(models.TextChoices):
    KNOWLEDGE = "K", "Knowledge"
    SKILL = "S", "Skill"
    BEHAVIOUR = "B", "Behaviour"


class Tag(models.Model):
    """A KSB tag, shared across cycles so earlier cycles' tags can be suggested again."""

    kind = models.CharField(max_length=1, choices=TagKind.choices)
    name = models.CharField(max_length=200)
    normalised = models.CharField(max_length=200)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_sources"
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "normalised"], name="unique_tag_per_kind")]

    def __str__(self) -> str:
        return self.name


class CapabilityTag(models.Model):
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="capability_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["capability", "tag"], name="unique_capability_tag")]


class PublishedTagFrequency(models.Model):
    """Tag frequencies printed in a published report (kept apart from the tags educators add)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="published_tag_frequencies")
    kind = models.CharField(max_length=1, choices=TagKind.choices)
    tag = models.CharField(max_length=200)
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["cycle", "kind", "-count", "tag"]

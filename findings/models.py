"""Communicate and Cause action: the action plan, report narrative, share links and export jobs."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.jobs import BackgroundJob
from cycles.models import Cycle
from workshops.models import FOP, Capability


class Horizon(models.TextChoices):
    SHORT = "short", "Short term"
    MEDIUM = "medium", "Medium term"
    LONG = "long", "Long term"
    GENERAL = "general", "General"
    # The digitalisation report prints a fifth group, "Additional recommendations".
    ADDITIONAL = "additional", "Additional recommendations"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        BLOCKED = "blocked", "Blocked"
        DROPPED = "dropped", "Dropped"

    class Source(models.TextChoices):
        PUBLISHED = "published", "Published report"
        MANUAL = "manual", "Added in the product"

    CLOSED_STATUSES = (Status.DONE, Status.DROPPED)

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="action_items")
    horizon = models.CharField(max_length=12, choices=Horizon.choices, default=Horizon.SHORT)
    topic = models.CharField(max_length=300)
    action = models.TextField()
    who = models.CharField(max_length=300, blank=True, help_text="Organisations or groups that act.")
    when = models.CharField(max_length=120, blank=True, help_text="As agreed, e.g. 'Q1 2025' or 'Ongoing'.")
    due_date = models.DateField(null=True, blank=True, help_text="Used to flag overdue actions.")
    expected_result = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_actions"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED, db_index=True)
    fops = models.ManyToManyField(FOP, blank=True, related_name="action_items")
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="action_items")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    order = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cycle", "order", "id"]
        indexes = [models.Index(fields=["cycle", "horizon"])]

    def __str__(self) -> str:
        return self.topic

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES

    @property
    def is_overdue(self) -> bool:
        return bool(self.due_date and self.is_open and self.due_date < timezone.localdate())


class ReportSection(models.Model):
    """A narrative section of the generated report, written by a convener and kept across regenerations."""

    class Key(models.TextChoices):
        EXECUTIVE_SUMMARY = "executive_summary", "Executive summary"
        CHALLENGE = "challenge", "Challenge and prioritised solutions"
        ORGANISATIONAL_CHANGE = "organisational_change", "Organisational change"
        WORKFORCE = "workforce", "Workforce insight"
        PROVISION = "provision", "Provision insight"
        KSB = "ksb", "Knowledge, skills and behaviours"
        INDUSTRY = "industry", "What this means for industry"
        EDUCATORS = "educators", "What this means for educators"
        NEXT_STEPS = "next_steps", "Recommended actions and next steps"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="report_sections")
    key = models.CharField(max_length=40, choices=Key.choices)
    body = models.TextField(blank=True, help_text="Markdown: paragraphs, **bold**, lists and links.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "key"]
        constraints = [models.UniqueConstraint(fields=["cycle", "key"], name="unique_report_section")]

    def __str__(self) -> str:
        return f"{self.get_key_display()} of {self.cycle}"


def _new_share_token() -> str:
    return secrets.token_urlsafe(32)


class ShareLink(models.Model):
    """A read-only, revocable link to a cycle's findings for sponsors and the public."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=_new_share_token)
    label = models.CharField(max_length=200, blank=True, help_text="Who the link is for, e.g. 'Sponsor board'.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label or f"Share link of {self.cycle}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ExportJob(BackgroundJob):
    """A long export (whole-cycle workbook, CSV bundle, PDF report) built by a Celery task (status
    and progress: BackgroundJob)."""

    class Kind(models.TextChoices):
        WORKBOOK = "workbook", "All findings as one XLSX workbook"
        CSV_ZIP = "csv_zip", "All findings as CSV files (zip)"
        REPORT_PDF = "report_pdf", "Findings report (PDF)"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="export_jobs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="findings/exports/", blank=True, default="")
    filename = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.cycle} ({self.status})"

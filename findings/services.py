"""Writes of the findings app: the action plan, report narrative, share links and export jobs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from core.jobs import error_text
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle
from cycles.services.audit import audit_record
from findings.models import ActionItem, ExportJob, ReportSection, ShareLink
from workshops.models import FOP, Capability

logger = logging.getLogger(__name__)
# Built files are kept this long, then removed when the next export starts.
KEEP_EXPORTS_FOR = timedelta(days=7)
NEVER_FINISHED = "The export never finished (its worker probably stopped). Start it again."
ONLY_MEMBERS = "Only members of the cycle may export its findings."


# --- Action plan --------------------------------------------------------------------------------

ACTION_FIELDS = ("horizon", "topic", "action", "who", "when", "due_date", "expected_result", "owner", "status")


@transaction.atomic
def action_item_create(
    *, cycle: Cycle, actor: User | None, fields: dict, fops: Iterable[FOP] = (), capabilities: Iterable[Capability] = ()
) -> ActionItem:
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="add to the action plan"))
    order = (ActionItem.objects.filter(cycle=cycle).aggregate(m=Max("order"))["m"] or 0) + 1
    item = ActionItem.objects.create(
        cycle=cycle, created_by=actor, order=order, **{k: v for k, v in fields.items() if k in ACTION_FIELDS}
    )
    item.fops.set(fops)
    item.capabilities.set(capabilities)
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="action.created",
        summary=f"Action added: {item.topic}",
        detail={"action_id": item.pk},
    )
    return item


@transaction.atomic
def action_item_update(
    *,
    item: ActionItem,
    actor: User | None,
    fields: dict,
    fops: Iterable[FOP] = None,
    capabilities: Iterable[Capability] = None,
) -> ActionItem:
    require_role(item.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the action plan"))
    before = {k: str(getattr(item, k)) for k in ACTION_FIELDS}
    for name, value in fields.items():
        if name in ACTION_FIELDS:
            setattr(item, name, value)
    item.save()
    if fops is not None:
        item.fops.set(fops)
    if capabilities is not None:
        item.capabilities.set(capabilities)
    after = {k: str(getattr(item, k)) for k in ACTION_FIELDS}
    changed = {k: [before[k], after[k]] for k in ACTION_FIELDS if before[k] != after[k]}
    audit_record(
        cycle=item.cycle,
        actor=actor,
        verb="action.updated",
        summary=f"Action updated: {item.topic}",
        detail={"action_id": item.pk, "changed": changed},
    )
    return item


@transaction.atomic
def action_item_delete(*, item: ActionItem, actor: User | None) -> None:
    require_role(item.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="remove an action from the plan"))
    cycle, topic, pk = item.cycle, item.topic, item.pk
    item.delete()
    audit_record(
        cycle=cycle, actor=actor, verb="action.deleted", summary=f"Action removed: {topic}", detail={"action_id": pk}
    )


# --- Report narrative ---------------------------------------------------------------------------


@transaction.atomic
def report_section_save(*, cycle: Cycle, key: str, body: str, actor: User | None) -> ReportSection:
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="write the findings report"))
    section, _ = ReportSection.objects.select_for_update().get_or_create(cycle=cycle, key=key)
    section.body = body.strip()
    section.updated_by = actor
    section.updated_at = timezone.now()
    section.save()
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="report.section_saved",
        summary=f"Report section saved: {section.get_key_display()}",
        detail={"key": key},
    )
    return section


# --- Share links --------------------------------------------------------------------------------


@transaction.atomic
def share_link_create(*, cycle: Cycle, actor: User | None, label: str = "") -> ShareLink:
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="publish a findings share link"))
    link = ShareLink.objects.create(cycle=cycle, created_by=actor, label=label.strip()[:200])
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="share.created",
        summary=f"Findings share link published: {link.label or link.pk}",
        detail={"link_id": link.pk},
    )
    return link


@transaction.atomic
def share_link_revoke(*, link: ShareLink, actor: User | None) -> ShareLink:
    require_role(link.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="revoke a findings share link"))
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.revoked_by = actor
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            cycle=link.cycle,
            actor=actor,
            verb="share.revoked",
            summary=f"Findings share link revoked: {link.label or link.pk}",
            detail={"link_id": link.pk},
        )
    return link


def share_link_seen(*, link: ShareLink) -> None:
    """Note when a share link was last used, at most once a minute (the convener's list shows it).

    The one write a page view makes, on purpose: a read receipt of the link, no state of the cycle."""
    now = timezone.now()
    if link.last_used_at is None or (now - link.last_used_at).total_seconds() > 60:
        ShareLink.objects.filter(pk=link.pk).update(last_used_at=now)


# --- Export jobs --------------------------------------------------------------------------------


@transaction.atomic
def export_job_create(*, cycle: Cycle, kind: str, actor: User | None, params: dict | None = None) -> ExportJob:
    from findings.tasks import run_export_job

    require_role(cycle, actor, None, ONLY_MEMBERS)
    export_jobs_prune(before=timezone.now() - KEEP_EXPORTS_FOR)
    # Exports of the cycle lost by their worker stop showing as waiting or running (core.jobs).
    ExportJob.fail_stale(ExportJob.objects.filter(cycle=cycle), error=NEVER_FINISHED)
    job = ExportJob.objects.create(cycle=cycle, kind=kind, requested_by=actor, params=params or {})
    transaction.on_commit(lambda: run_export_job.delay(job.pk))
    return job


def export_jobs_prune(*, before: datetime) -> int:
    """Delete finished export jobs (and their files) created before ``before``."""
    old = list(
        ExportJob.objects.filter(created_at__lt=before, status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED])
    )
    for job in old:
        if job.file:
            job.file.delete(save=False)
        job.delete()
    return len(old)


def _set_progress(job_id: int, percent: int, note: str | None = None) -> None:
    ExportJob.report_progress(job_id, percent, note)


def _build(job: ExportJob, cycle) -> tuple[bytes, str]:
    """The job's file: its bytes and its download name."""
    from findings import exports, report

    job_id = job.pk
    if job.kind == ExportJob.Kind.REPORT_PDF:
        _set_progress(job_id, 10, "Rendering the report")
        return report.report_pdf(cycle), f"{cycle.slug}-findings-report.pdf"
    pages = exports.all_pages(
        cycle, progress=lambda done, total: _set_progress(job_id, int(90 * done / total)), params=job.params
    )
    if job.kind == ExportJob.Kind.WORKBOOK:
        return exports.workbook_bytes(cycle, pages), f"{cycle.slug}-findings.xlsx"
    return exports.csv_zip_bytes(cycle, pages), f"{cycle.slug}-findings-csv.zip"


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Build the job's file. Claimed with core.jobs' conditional UPDATE (a waiting job, or one whose
    worker was lost), so two workers never build the same job; returns None when it was not ours."""
    if not ExportJob.claim(job_id):
        return None
    job = ExportJob.objects.select_related("cycle").get(pk=job_id)
    cycle = job.cycle
    try:
        with ExportJob.kept_alive(job_id):
            content, filename = _build(job, cycle)
        job.file.save(f"{job.pk}-{filename}", ContentFile(content), save=False)
        if not ExportJob.finish(job_id, file=job.file.name, filename=filename):
            # No longer ours (marked lost meanwhile): the file is nobody's.
            job.file.delete(save=False)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job for the user to see
        logger.exception("Export job %s failed", job_id)
        ExportJob.fail(job_id, error_text(exc))
    job.refresh_from_db()
    return job

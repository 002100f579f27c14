"""Prepare: the cycle's supply-chain partners, role levels and workshops."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models, transaction

from accounts.models import User
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle, RoleLevel, SupplyChainPartner, Workshop
from cycles.services.audit import audit_record

DUPLICATE_NAME = "This cycle already has a {what} called “{name}”."
LEVEL_RANGE = "Academic levels run from 2 to 7."
LEVEL_MIN_ABOVE_MAX = "The lowest academic level ({low}) is above the highest ({high})."
WORKSHOP_END_BEFORE_START = "The workshop must end after it starts."
UNKNOWN_TIMEZONE = "“{value}” is not a time zone (e.g. Europe/London)."
IN_USE = "“{name}” is used by {count} {what} and cannot be deleted."


def _in_use(obj: models.Model) -> tuple[int, str]:
    """How many rows elsewhere point at ``obj`` through a cascading or protecting relation."""
    for relation in obj._meta.related_objects:
        if relation.on_delete not in (models.CASCADE, models.PROTECT) or not relation.one_to_many:
            continue
        count = relation.related_model._default_manager.filter(**{relation.field.name: obj}).count()
        if count:
            return count, str(relation.related_model._meta.verbose_name_plural)
    for relation in obj._meta.related_objects:
        if relation.many_to_many:
            count = getattr(obj, relation.get_accessor_name()).count()
            if count:
                return count, str(relation.related_model._meta.verbose_name_plural)
    return 0, ""


def _refuse_if_in_use(obj: models.Model) -> None:
    count, what = _in_use(obj)
    if count:
        raise ValidationError(IN_USE.format(name=obj, count=count, what=what))


def _unique_name(model, cycle: Cycle, name: str, what: str, exclude_pk=None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give it a name."})
    qs = model.objects.filter(cycle=cycle, name__iexact=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": DUPLICATE_NAME.format(what=what, name=name)})
    return name


def _next_order(model, cycle: Cycle) -> int:
    return (model.objects.filter(cycle=cycle).aggregate(m=models.Max("order"))["m"] or 0) + 1


# --- Supply-chain partners --------------------------------------------------------------------


@transaction.atomic
def partner_save(
    *,
    cycle: Cycle,
    actor: User | None,
    name: str,
    description: str = "",
    order: int | None = None,
    partner: SupplyChainPartner | None = None,
) -> SupplyChainPartner:
    """Create a partner, or update ``partner`` when given."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the supply-chain partners"))
    name = _unique_name(
        SupplyChainPartner, cycle, name, "supply-chain partner", exclude_pk=partner.pk if partner else None
    )
    created = partner is None
    if created:
        partner = SupplyChainPartner(cycle=cycle)
    partner.name, partner.description = name, description.strip()
    partner.order = (
        order if order is not None else (partner.order if not created else _next_order(SupplyChainPartner, cycle))
    )
    partner.save()
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="partner.created" if created else "partner.updated",
        summary=f"{'Added' if created else 'Edited'} the supply-chain partner “{name}”",
    )
    return partner


@transaction.atomic
def partner_delete(*, partner: SupplyChainPartner, actor: User | None) -> None:
    require_role(partner.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the supply-chain partners"))
    _refuse_if_in_use(partner)
    audit_record(
        cycle=partner.cycle,
        actor=actor,
        verb="partner.deleted",
        summary=f"Deleted the supply-chain partner “{partner.name}”",
    )
    partner.delete()


# --- Role levels ------------------------------------------------------------------------------


@transaction.atomic
def role_level_save(
    *,
    cycle: Cycle,
    actor: User | None,
    name: str,
    academic_level_min: int,
    academic_level_max: int,
    description: str = "",
    order: int | None = None,
    role_level: RoleLevel | None = None,
) -> RoleLevel:
    """Create a role level, or update ``role_level``; academic levels must satisfy 2 ≤ min ≤ max ≤ 7."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the role levels"))
    errors = {}
    for field, value in (("academic_level_min", academic_level_min), ("academic_level_max", academic_level_max)):
        if not isinstance(value, int) or not 2 <= value <= 7:
            errors[field] = LEVEL_RANGE
    if not errors and academic_level_min > academic_level_max:
        errors["academic_level_max"] = LEVEL_MIN_ABOVE_MAX.format(low=academic_level_min, high=academic_level_max)
    try:
        name = _unique_name(RoleLevel, cycle, name, "role level", exclude_pk=role_level.pk if role_level else None)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    created = role_level is None
    if created:
        role_level = RoleLevel(cycle=cycle)
    role_level.name, role_level.description = name, description.strip()
    role_level.academic_level_min, role_level.academic_level_max = academic_level_min, academic_level_max
    role_level.order = (
        order if order is not None else (role_level.order if not created else _next_order(RoleLevel, cycle))
    )
    role_level.save()
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="role_level.created" if created else "role_level.updated",
        summary=f"{'Added' if created else 'Edited'} the role level “{name}” (levels {academic_level_min}–{academic_level_max})",
    )
    return role_level


@transaction.atomic
def role_level_delete(*, role_level: RoleLevel, actor: User | None) -> None:
    require_role(role_level.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the role levels"))
    _refuse_if_in_use(role_level)
    audit_record(
        cycle=role_level.cycle,
        actor=actor,
        verb="role_level.deleted",
        summary=f"Deleted the role level “{role_level.name}”",
    )
    role_level.delete()


# --- Workshops --------------------------------------------------------------------------------


@transaction.atomic
def workshop_save(
    *,
    cycle: Cycle,
    actor: User | None,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str = "Europe/London",
    place: str = "",
    video_link: str = "",
    facilitator: User | None = None,
    workshop: Workshop | None = None,
) -> Workshop:
    """Schedule a workshop, or update ``workshop``; it must end after it starts."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="schedule workshops"))
    errors = {}
    if kind not in Workshop.Kind.values:
        errors["kind"] = f"“{kind}” is not a workshop kind."
    if not title.strip():
        errors["title"] = "Give the workshop a title."
    if starts_at and ends_at and starts_at >= ends_at:
        errors["ends_at"] = WORKSHOP_END_BEFORE_START
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = UNKNOWN_TIMEZONE.format(value=timezone)
    if errors:
        raise ValidationError(errors)
    created = workshop is None
    if created:
        workshop = Workshop(cycle=cycle)
    for field, value in {
        "kind": kind,
        "title": title.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": timezone,
        "place": place.strip(),
        "video_link": video_link.strip(),
        "facilitator": facilitator,
    }.items():
        setattr(workshop, field, value)
    workshop.save()
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="workshop.created" if created else "workshop.updated",
        summary=f"{'Scheduled' if created else 'Edited'} the workshop “{workshop.title}” ({starts_at:%d %b %Y %H:%M})",
    )
    return workshop


@transaction.atomic
def workshop_delete(*, workshop: Workshop, actor: User | None) -> None:
    require_role(workshop.cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="cancel a workshop"))
    audit_record(
        cycle=workshop.cycle, actor=actor, verb="workshop.deleted", summary=f"Cancelled the workshop “{workshop.title}”"
    )
    workshop.delete()

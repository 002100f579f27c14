"""Writes on KSB tags: educators (and the convener) tag capabilities; the convener merges
near-duplicate tags. Tags are shared across cycles and normalised, so 'Process Optimisation' and
'process  optimization' are one tag."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import User
from cycles.access import access_for
from cycles.models import Cycle, Role
from cycles.services.audit import audit_record
from workshops.models import Capability, CapabilityTag, Tag, TagKind

TAG_ROLES = (Role.CONVENER, Role.EDUCATOR)
TAG_NAME_MAX = 120

NAME_REQUIRED = "A tag needs a name."
NAME_TOO_LONG = f"A tag has at most {TAG_NAME_MAX} characters."
KIND_UNKNOWN = "A tag is Knowledge (K), Skill (S) or Behaviour (B)."
ALREADY_TAGGED = "{ref} already has the {kind} tag “{name}”."
NOT_TAGGED = "{ref} does not have that tag."
ROLE_CANNOT_TAG = "Only educators and the convener tag capabilities with KSBs."
MERGE_SAME_TAG = "Choose two different tags to merge."
MERGE_KIND_MISMATCH = "Only tags of the same kind can be merged (Knowledge with Knowledge, and so on)."
CAPABILITY_NOT_TAGGABLE = "Only accepted or submitted capabilities can be tagged."


class TagError(Exception):
    """An expected refusal: the message says what and where; nothing was changed."""


_SPELLING = [
    (re.compile(r"\b(\w{3,})is(e|es|ed|ing|ation|ations|er|ers)\b"), r"\1iz\2"),  # optimise → optimize
    (re.compile(r"\b(\w{2,})ys(e|es|ed|ing)\b"), r"\1yz\2"),  # analyse → analyze
    (re.compile(r"\b(\w{3,})our\b"), r"\1or"),  # behaviour → behavior
    (re.compile(r"\b(\w{3,})tre\b"), r"\1ter"),  # centre → center
]


def tag_normalise(name: str) -> str:
    """The key under which duplicates collapse: case, spacing, punctuation, '&', UK/US spelling."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = text.replace("&", " and ")
    text = re.sub(r"[\s_\-‐–—/]+", " ", text)
    text = re.sub(r"[^\w\s()+#.]", "", text)
    text = " ".join(text.split()).strip(" .")
    for pattern, repl in _SPELLING:
        text = pattern.sub(repl, text)
    return text


def tag_clean_name(name: str) -> str:
    name = " ".join((name or "").split()).strip(" ,;")
    if not name:
        raise TagError(NAME_REQUIRED)
    if len(name) > TAG_NAME_MAX:
        raise TagError(NAME_TOO_LONG)
    return name


def _check_tagger(cycle: Cycle, actor: User | None) -> None:
    if actor is None:
        return
    access = access_for(actor, cycle)
    if access is None or access.role not in TAG_ROLES:
        raise PermissionDenied(ROLE_CANNOT_TAG)


def _root(tag: Tag) -> Tag:
    seen = set()
    while tag.merged_into_id and tag.pk not in seen:
        seen.add(tag.pk)
        tag = tag.merged_into
    return tag


@transaction.atomic
def tag_get_or_create(*, kind: str, name: str) -> Tag:
    if kind not in TagKind.values:
        raise TagError(KIND_UNKNOWN)
    name = tag_clean_name(name)
    key = tag_normalise(name)
    if not key:
        raise TagError(NAME_REQUIRED)
    tag, _ = Tag.objects.get_or_create(kind=kind, normalised=key, defaults={"name": name})
    return _root(tag)


@transaction.atomic
def tag_add(*, capability: Capability, actor: User | None, kind: str, name: str) -> CapabilityTag:
    _check_tagger(capability.cycle, actor)
    if capability.status not in (Capability.Status.ACCEPTED, Capability.Status.SUBMITTED):
        raise TagError(CAPABILITY_NOT_TAGGABLE)
    tag = tag_get_or_create(kind=kind, name=name)
    link, created = CapabilityTag.objects.get_or_create(capability=capability, tag=tag, defaults={"added_by": actor})
    if not created:
        raise TagError(ALREADY_TAGGED.format(ref=capability.ref, kind=tag.get_kind_display(), name=tag.name))
    return link


@transaction.atomic
def tag_remove(*, capability: Capability, actor: User | None, tag: Tag) -> None:
    _check_tagger(capability.cycle, actor)
    deleted, _ = CapabilityTag.objects.filter(capability=capability, tag=tag).delete()
    if not deleted:
        raise TagError(NOT_TAGGED.format(ref=capability.ref))


@transaction.atomic
def tag_merge(*, cycle: Cycle, actor: User | None, source: Tag, target: Tag) -> int:
    """Move the cycle's uses of ``source`` onto ``target``; once no cycle uses ``source`` it points
    at ``target`` so it is never suggested or created again. Returns how many links moved."""
    if actor is not None:
        access = access_for(actor, cycle)
        if access is None or not access.is_convener:
            raise PermissionDenied(ROLE_CANNOT_TAG)
    source, target = Tag.objects.select_for_update().get(pk=source.pk), _root(Tag.objects.get(pk=target.pk))
    if source.pk == target.pk:
        raise TagError(MERGE_SAME_TAG)
    if source.kind != target.kind:
        raise TagError(MERGE_KIND_MISMATCH)
    links = CapabilityTag.objects.filter(tag=source, capability__cycle=cycle)
    already = set(
        CapabilityTag.objects.filter(tag=target, capability__cycle=cycle).values_list("capability_id", flat=True)
    )
    moved = 0
    for link in links:
        if link.capability_id in already:
            link.delete()
        else:
            link.tag = target
            link.save(update_fields=["tag"])
        moved += 1
    if not CapabilityTag.objects.filter(tag=source).exists():
        source.merged_into = target
        source.save(update_fields=["merged_into"])
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="tags_merged",
        summary=f"Tag “{source.name}” merged into “{target.name}” ({moved} uses)"[:400],
        detail={"source": source.pk, "target": target.pk, "moved": moved},
    )
    return moved

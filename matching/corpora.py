"""The named corpora of ``matching.embeddings``: each built from the latest version of a framework."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db.models.fields.json import KT

from matching.embeddings import CorpusItem, register_corpus
from matching.models import Framework, FrameworkVersion, Standard, Statement


def latest_version(kind: str) -> FrameworkVersion | None:
    return (
        FrameworkVersion.objects.filter(framework__kind=kind)
        .select_related("framework")
        .order_by("-imported_at", "-id")
        .first()
    )


def _signature(kind: str) -> tuple:
    version = latest_version(kind)
    return (kind, version.pk, version.checksum) if version else (kind, None, None)


def _statement_items(framework: str, extra_keys: tuple[str, ...] = (), **filters) -> list[CorpusItem]:
    """The latest version's statements, with their stored text hashes and only the ``extra`` keys
    a corpus uses (decoding every row's whole JSON took most of the time of a corpus load)."""
    version = latest_version(framework)
    if version is None:
        return []
    rows = (
        Statement.objects.filter(version=version, **filters)
        .annotate(**{f"extra_{k}": KT(f"extra__{k}") for k in extra_keys})
        .order_by("id")
        .values_list("id", "text", "ref", "kind", "standard__title", "text_hash", *(f"extra_{k}" for k in extra_keys))
    )
    return [
        CorpusItem(
            id=pk,
            text=text,
            ref=ref,
            kind=k,
            label=title or "",
            extra={key: value for key, value in zip(extra_keys, extra, strict=True) if value is not None},
            text_hash=digest,
        )
        for pk, text, ref, k, title, digest, *extra in rows
    ]


def _brief(label: str, description: str) -> str:
    """The label and its description (the description carries most of the meaning for naming)."""
    description = " ".join((description or "").split())
    return f"{label}. {description}"[:600]


def _occupation_items(kind: str) -> list[CorpusItem]:
    """Occupations embedded as "label. description", for naming FOPs (item.extra: source, code)."""
    version = latest_version(kind)
    if version is None:
        return []
    source = "ESCO" if kind == Framework.Kind.ESCO else "O*NET"
    rows = Standard.objects.filter(version=version).order_by("id").values_list("id", "ref", "title", "extra")
    items = []
    for pk, ref, title, extra in rows:
        extra = extra or {}
        # ESCO's occupation code (e.g. 2141.3) is kept in extra; O*NET's SOC code is the ref.
        code = extra.get("code", "") if source == "ESCO" else ref
        items.append(
            CorpusItem(
                id=pk,
                text=_brief(title, extra.get("description", "")),
                ref=ref,
                kind="occupation",
                label=title,
                extra={"source": source, "code": code},
            )
        )
    return items


def _esco_concepts(keep: Callable[[dict], bool]) -> list[CorpusItem]:
    """ESCO skill concepts that ``keep`` accepts (label and URI only: descriptions would sit in every
    process for nothing)."""
    version = latest_version(Framework.Kind.ESCO)
    if version is None:
        return []
    rows = (
        Statement.objects.filter(version=version, standard__isnull=True, kind=Statement.Kind.SKILL)
        .annotate(skill_type=KT("extra__skill_type"), collections=KT("extra__collections"))
        .order_by("id")
        .values_list("id", "text", "ref", "kind", "text_hash", "skill_type", "collections")
    )
    return [
        CorpusItem(id=pk, text=text, ref=ref, kind=kind, text_hash=digest)
        for pk, text, ref, kind, digest, skill_type, collections in rows
        if keep({"skill_type": skill_type, "collections": json.loads(collections or "[]")})
    ]


def _by_framework(kind: str, loader):
    def source():
        return _signature(kind), loader

    return source


register_corpus("onet:tasks")(_by_framework("onet", lambda: _statement_items("onet", kind=Statement.Kind.TASK)))
register_corpus("onet:titles")(_by_framework("onet", lambda: _occupation_items(Framework.Kind.ONET)))
register_corpus("esco:occupations")(_by_framework("esco", lambda: _occupation_items(Framework.Kind.ESCO)))
# Skill tags: the concepts typed skill/competence (not the few without a type).
register_corpus("esco:skills")(
    _by_framework("esco", lambda: _esco_concepts(lambda extra: extra.get("skill_type") == "skill/competence"))
)
register_corpus("esco:knowledge")(
    _by_framework("esco", lambda: _statement_items("esco", standard__isnull=True, kind=Statement.Kind.KNOWLEDGE))
)
# Behaviour tags: the concepts of ESCO's transversal skills collection.
register_corpus("esco:transversal")(
    _by_framework("esco", lambda: _esco_concepts(lambda extra: "transversal" in (extra.get("collections") or [])))
)
# The library shows each ESCO concept's skill type beside it.
register_corpus("esco:all_skills")(
    _by_framework("esco", lambda: _statement_items("esco", ("skill_type",), standard__isnull=True))
)
register_corpus("ifate:duties")(_by_framework("ifate", lambda: _statement_items("ifate", kind=Statement.Kind.DUTY)))

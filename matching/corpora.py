"""The named corpora of ``matching.embeddings``: each built from the latest version of a framework."""

from __future__ import annotations

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


def _statement_items(framework: str, **filters) -> list[CorpusItem]:
    version = latest_version(framework)
    if version is None:
        return []
    rows = (
        Statement.objects.filter(version=version, **filters)
        .order_by("id")
        .values_list("id", "text", "ref", "kind", "standard__title", "extra")
    )
    return [
        CorpusItem(id=pk, text=text, ref=ref, kind=k, label=title or "", extra=extra or {})
        for pk, text, ref, k, title, extra in rows
    ]


def _standard_items(kind: str) -> list[CorpusItem]:
    version = latest_version(kind)
    if version is None:
        return []
    rows = Standard.objects.filter(version=version).order_by("id").values_list("id", "title", "ref", "route", "extra")
    return [
        CorpusItem(
            id=pk,
            text=title,
            ref=ref,
            kind="occupation",
            label=route,
            extra={"isco_group": (extra or {}).get("isco_group", "")} if kind == Framework.Kind.ESCO else {},
        )
        for pk, title, ref, route, extra in rows
    ]


def _by_framework(kind: str, loader):
    def source():
        return _signature(kind), loader

    return source


register_corpus("onet:tasks")(_by_framework("onet", lambda: _statement_items("onet", kind=Statement.Kind.TASK)))
register_corpus("onet:titles")(_by_framework("onet", lambda: _standard_items("onet")))
register_corpus("esco:occupations")(_by_framework("esco", lambda: _standard_items("esco")))
register_corpus("esco:skills")(
    _by_framework("esco", lambda: _statement_items("esco", standard__isnull=True, kind=Statement.Kind.SKILL))
)
register_corpus("esco:knowledge")(
    _by_framework("esco", lambda: _statement_items("esco", standard__isnull=True, kind=Statement.Kind.KNOWLEDGE))
)
register_corpus("esco:transversal")(
    _by_framework(
        "esco",
        lambda: [
            item
            for item in _statement_items("esco", standard__isnull=True, kind=Statement.Kind.SKILL)
            if item.extra.get("transversal")
        ],
    )
)
register_corpus("esco:all_skills")(_by_framework("esco", lambda: _statement_items("esco", standard__isnull=True)))
register_corpus("ifate:duties")(_by_framework("ifate", lambda: _statement_items("ifate", kind=Statement.Kind.DUTY)))

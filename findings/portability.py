"""Export a cycle with everything in it as JSON, and restore it into another database.

Nothing here names a model. The cycle's own models are found by walking foreign keys from
``Cycle``: a model belongs to a cycle when one of its foreign keys points at ``Cycle`` or at a model
that does (memberships, capabilities, rounds, votes, results, FOPs and their history, tags on
capabilities, match runs, actions...). A model added later by any app is therefore exported and
restored without a change here.

Rows of the cycle's own models are written with local ids (1, 2, ... per model, in primary-key
order), so an export, an import into another database and a second export give the same file.
Rows outside the cycle that they point at (users, organisations, the classification taxonomy, KSB
tags, framework versions...) are *references*: written once with a natural key (the username field,
or the model's first unique field or unique constraint) and their fields, matched by that key on
import and created only when missing. Users are created without a usable password, and their
password, last login and staff/superuser flags never leave the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction

from cycles.models import Cycle

FORMAT = "foresight-cycle"
VERSION = 1

# Framework tables never belong to a cycle, even when they point at a user or a content type.
NEVER_OWNED_APPS = {"admin", "auth", "contenttypes", "sessions"}
USER_PRIVATE_FIELDS = {"password", "last_login", "is_superuser", "is_staff"}

NOT_AN_EXPORT = "This file is not a cycle export (expected format 'foresight-cycle')."
UNSUPPORTED_VERSION = "This file is a version {version} export; this installation reads version 1."
CYCLE_EXISTS = "A cycle with the slug '{slug}' already exists here: nothing was imported."
UNKNOWN_MODEL = "The file contains '{label}', which this installation does not have: nothing was imported."
UNKNOWN_FIELD = (
    "The file's {label} row {row} has a field '{field}' this installation does not have: nothing was imported."
)
DANGLING_ROW = "{label} row {row} points at {target} {pk}, which is not part of cycle '{slug}'."
MISSING_ROW = "The file's {label} row {row} points at {target} row {target_row}, which the file does not contain."
MISSING_REFERENCE = "The file's {label} row {row} refers to {target} {key}, which the file does not describe."
BAD_VALUE = "The file's {label} row {row}, field '{field}': {error}: nothing was imported."


class PortabilityError(Exception):
    """An export or import that cannot be done; the message says what and where."""


# --- Which models belong to a cycle --------------------------------------------------------------


def _label(model) -> str:
    return model._meta.label_lower


def _forward_fks(model) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)]


def cycle_models() -> dict[type[models.Model], list[str]]:
    """Every model whose rows belong to a cycle, with the lookups that lead from it to the cycle.

    The shortest lookup through non-nullable keys comes first; every lookup is tried when the rows
    are collected, so a row reachable through any of its keys is included.
    """
    best: dict[type[models.Model], tuple[tuple[int, int], str]] = {Cycle: ((0, 0), "")}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model is Cycle or model._meta.app_label in NEVER_OWNED_APPS:
                continue
            for field in _forward_fks(model):
                target = field.related_model
                if target not in best or target is model:
                    continue
                (nulls, depth), target_path = best[target]
                path = field.name if target is Cycle else f"{field.name}__{target_path}"
                score = (nulls + int(field.null), depth + 1)
                if model not in best or score < best[model][0]:
                    best[model] = (score, path)
                    changed = True
    owned: dict[type[models.Model], list[str]] = {}
    for model in best:
        if model is Cycle:
            owned[model] = []
            continue
        paths = [best[model][1]]
        for field in _forward_fks(model):
            target = field.related_model
            if target in best and target is not model:
                path = field.name if target is Cycle else f"{field.name}__{best[target][1]}"
                if path not in paths:
                    paths.append(path)
        owned[model] = paths
    return owned


def _insert_order(owned: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    """Models ordered so every non-nullable key points at a model created earlier."""
    owned = set(owned)
    deps = {
        model: {
            f.related_model
            for f in _forward_fks(model)
            if f.related_model in owned and not f.null and f.related_model is not model
        }
        for model in owned
    }
    order: list[type[models.Model]] = []
    ready = sorted((m for m in owned if not deps[m]), key=_label)
    placed: set = set()
    while ready:
        model = ready.pop(0)
        order.append(model)
        placed.add(model)
        newly = [m for m in owned if m not in placed and m not in ready and deps[m] <= placed]
        ready = sorted([*ready, *newly], key=_label)
    if len(order) != len(owned):
        stuck = sorted(_label(m) for m in owned - placed)
        raise PortabilityError(f"These models depend on each other through required keys: {', '.join(stuck)}")
    return order


def _auto_m2m(model) -> list[models.ManyToManyField]:
    return [f for f in model._meta.local_many_to_many if f.remote_field.through._meta.auto_created]


def _value_fields(model) -> list[models.Field]:
    """Concrete fields written for a row: everything but an auto-increment primary key."""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    if model is get_user_model():
        fields = [f for f in fields if f.name not in USER_PRIVATE_FIELDS]
    return fields


# --- Values ----------------------------------------------------------------------------------------


def _dump_value(field: models.Field, obj: models.Model) -> Any:
    value = field.value_from_object(obj)
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.FileField):
        return value.name or ""
    if isinstance(value, bool | int | float | str):
        return value
    return field.value_to_string(obj)


def _load_value(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def _key_fields(model) -> list[str]:
    """The fields that identify a row of a reference model across databases."""
    user_model = get_user_model()
    if model is user_model:
        return [user_model.USERNAME_FIELD]
    opts = model._meta
    for field in opts.concrete_fields:
        if field.unique and not field.primary_key:
            return [field.name]
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None:
            return list(constraint.fields)
    for fields in opts.unique_together:
        return list(fields)
    return [f.name for f in _value_fields(model)]


# --- Export -------------------------------------------------------------------------------------


class _Exporter:
    def __init__(self, cycle: Cycle):
        self.cycle = cycle
        self.owned = cycle_models()
        self.order = _insert_order(self.owned)
        self.local: dict[type[models.Model], dict[Any, int]] = {}
        self.rows: dict[type[models.Model], list[models.Model]] = {}
        self.references: dict[str, dict[str, dict]] = defaultdict(dict)

    def collect(self) -> None:
        for model in self.order:
            manager = model._base_manager
            if model is Cycle:
                pks = {self.cycle.pk}
            else:
                pks = set()
                for path in self.owned[model]:
                    pks.update(manager.filter(**{path: self.cycle}).values_list("pk", flat=True))
            objs = list(manager.filter(pk__in=pks).order_by("pk")) if pks else []
            self.rows[model] = objs
            self.local[model] = {obj.pk: index for index, obj in enumerate(objs, start=1)}

    def reference_key(self, model, obj) -> list:
        key = []
        for name in _key_fields(model):
            field = model._meta.get_field(name)
            if field.is_relation:
                target = getattr(obj, field.name)
                key.append(None if target is None else self.reference(field.related_model, target))
            else:
                key.append(_dump_value(field, obj))
        return key

    def reference(self, model, obj) -> list:
        """Record a row outside the cycle (once) and return its key."""
        key = self.reference_key(model, obj)
        bucket = self.references[_label(model)]
        token = json.dumps(key, sort_keys=True)
        if token not in bucket:
            bucket[token] = {}  # placeholder first: a self-reference must not recurse forever
            bucket[token] = {"key": key, "fields": self.fields(model, obj, reference=True)}
        return key

    def fields(self, model, obj, *, reference: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in _value_fields(model):
            if field.is_relation:
                target_id = getattr(obj, field.attname)
                target_model = field.related_model
                if target_id is None:
                    out[field.name] = None
                elif target_model in self.owned and not reference:
                    local = self.local[target_model].get(target_id)
                    if local is None:
                        raise PortabilityError(
                            DANGLING_ROW.format(
                                label=_label(model),
                                row=obj.pk,
                                target=_label(target_model),
                                pk=target_id,
                                slug=self.cycle.slug,
                            )
                        )
                    out[field.name] = local
                else:
                    out[field.name] = self.reference(target_model, getattr(obj, field.name))
            else:
                out[field.name] = _dump_value(field, obj)
        return out

    def m2m(self, model, obj) -> dict[str, list]:
        out = {}
        for field in _auto_m2m(model):
            target = field.related_model
            related = list(getattr(obj, field.name).all().order_by("pk"))
            if target in self.owned:
                values = []
                for other in related:
                    local = self.local[target].get(other.pk)
                    if local is None:
                        raise PortabilityError(
                            DANGLING_ROW.format(
                                label=_label(model),
                                row=obj.pk,
                                target=_label(target),
                                pk=other.pk,
                                slug=self.cycle.slug,
                            )
                        )
                    values.append(local)
                out[field.name] = sorted(values)
            else:
                out[field.name] = sorted(
                    (self.reference(target, other) for other in related), key=lambda k: json.dumps(k, sort_keys=True)
                )
        return out

    def build(self) -> dict:
        self.collect()
        rows_out: dict[str, list] = {}
        for model in self.order:
            has_m2m = bool(_auto_m2m(model))
            rows = []
            for obj in self.rows[model]:
                row = {"id": self.local[model][obj.pk], "fields": self.fields(model, obj)}
                if has_m2m:
                    row["m2m"] = self.m2m(model, obj)
                rows.append(row)
            rows_out[_label(model)] = rows
        references = {
            label: [bucket[token] for token in sorted(bucket)] for label, bucket in sorted(self.references.items())
        }
        return {
            "format": FORMAT,
            "version": VERSION,
            "cycle": self.cycle.slug,
            "references": references,
            "models": dict(sorted(rows_out.items())),
        }


def cycle_export(*, cycle: Cycle) -> dict:
    """The cycle and everything in it as one JSON-serialisable document."""
    with transaction.atomic():  # one consistent snapshot (repeatable within the transaction on PostgreSQL)
        return _Exporter(cycle).build()


# --- Import ---------------------------------------------------------------------------------------


class _Importer:
    def __init__(self, data: dict):
        self.data = data
        self.owned = cycle_models()
        self.order = _insert_order(self.owned)
        self.by_label = {_label(m): m for m in self.owned}
        self.references = {
            label: {json.dumps(entry["key"], sort_keys=True): entry for entry in entries}
            for label, entries in data.get("references", {}).items()
        }
        self.resolved: dict[tuple[str, str], models.Model] = {}
        self.new_pk: dict[type[models.Model], dict[int, Any]] = defaultdict(dict)

    def check(self) -> None:
        if not isinstance(self.data, dict) or self.data.get("format") != FORMAT:
            raise PortabilityError(NOT_AN_EXPORT)
        if self.data.get("version") != VERSION:
            raise PortabilityError(UNSUPPORTED_VERSION.format(version=self.data.get("version")))
        for label in self.data.get("models", {}):
            if label not in self.by_label:
                raise PortabilityError(UNKNOWN_MODEL.format(label=label))
        for label in self.data.get("references", {}):
            try:
                apps.get_model(label)
            except LookupError:
                raise PortabilityError(UNKNOWN_MODEL.format(label=label)) from None
        slug = self.data.get("cycle")
        if Cycle.objects.filter(slug=slug).exists():
            raise PortabilityError(CYCLE_EXISTS.format(slug=slug))

    def resolve(self, model, key, *, where: str) -> models.Model | None:
        """The local row for a reference key: found by its key, or created from the file."""
        if key is None:
            return None
        label = _label(model)
        token = json.dumps(key, sort_keys=True)
        if (label, token) in self.resolved:
            return self.resolved[(label, token)]
        lookup = {}
        for name, value in zip(_key_fields(model), key, strict=True):
            field = model._meta.get_field(name)
            lookup[name] = (
                self.resolve(field.related_model, value, where=where)
                if field.is_relation
                else _load_value(field, value)
            )
        obj = model._base_manager.filter(**lookup).first()
        if obj is None:
            entry = self.references.get(label, {}).get(token)
            if entry is None:
                raise PortabilityError(MISSING_REFERENCE.format(label=where, row="", target=label, key=key))
            kwargs = {}
            for name, value in entry["fields"].items():
                field = model._meta.get_field(name)
                if field.is_relation:
                    kwargs[field.name] = self.resolve(field.related_model, value, where=label)
                else:
                    kwargs[field.attname] = _load_value(field, value)
            obj = model(**kwargs)
            if model is get_user_model():
                obj.set_unusable_password()
            obj.save()
        self.resolved[(label, token)] = obj
        return obj

    def _field(self, model, label: str, row: dict, name: str) -> models.Field:
        try:
            field = model._meta.get_field(name)
        except Exception:
            raise PortabilityError(UNKNOWN_FIELD.format(label=label, row=row.get("id"), field=name)) from None
        if not field.concrete or field.many_to_many:
            raise PortabilityError(UNKNOWN_FIELD.format(label=label, row=row.get("id"), field=name))
        return field

    def run(self) -> Cycle:
        self.check()
        rows_by_model = self.data.get("models", {})
        deferred: list[tuple[type[models.Model], models.Model, str, type[models.Model], int]] = []
        created: dict[type[models.Model], list[tuple[dict, models.Model]]] = {}
        for model in self.order:
            label = _label(model)
            rows = rows_by_model.get(label, [])
            objs = []
            timestamps: list[tuple[models.Model, dict[str, Any]]] = []
            auto_fields = [
                f
                for f in model._meta.concrete_fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            ]
            for row in rows:
                kwargs: dict[str, Any] = {}
                later = []
                for name, value in row["fields"].items():
                    field = self._field(model, label, row, name)
                    if field.is_relation:
                        target = field.related_model
                        if target in self.owned:
                            if value is None:
                                kwargs[field.attname] = None
                            elif value in self.new_pk[target]:
                                kwargs[field.attname] = self.new_pk[target][value]
                            elif field.null:
                                later.append((field.attname, target, value))
                                kwargs[field.attname] = None
                            else:
                                raise PortabilityError(
                                    MISSING_ROW.format(
                                        label=label, row=row["id"], target=_label(target), target_row=value
                                    )
                                )
                        else:
                            kwargs[field.name] = self.resolve(target, value, where=f"{label} row {row['id']}")
                    else:
                        try:
                            kwargs[field.attname] = _load_value(field, value)
                        except Exception as exc:
                            raise PortabilityError(
                                BAD_VALUE.format(label=label, row=row["id"], field=name, error=exc)
                            ) from None
                obj = model(**kwargs)
                objs.append(obj)
                if auto_fields:
                    timestamps.append((obj, {f.attname: kwargs.get(f.attname) for f in auto_fields}))
                for attname, target, value in later:
                    deferred.append((model, obj, attname, target, value))
            # bulk_create sends no signals: restoring a backup must not broadcast or enqueue anything.
            model._base_manager.bulk_create(objs, batch_size=1000)
            if timestamps:
                # bulk_create stamped auto_now fields with the time of the import; put the originals back.
                for obj, values in timestamps:
                    for attname, value in values.items():
                        setattr(obj, attname, value)
                model._base_manager.bulk_update(
                    [obj for obj, _ in timestamps], [f.name for f in auto_fields], batch_size=1000
                )
            for row, obj in zip(rows, objs, strict=True):
                self.new_pk[model][row["id"]] = obj.pk
            created[model] = list(zip(rows, objs, strict=True))
        self._fix_deferred(deferred)
        self._add_m2m(created)
        return Cycle.objects.get(pk=self.new_pk[Cycle][1])

    def _fix_deferred(self, deferred) -> None:
        by_model: dict[type[models.Model], dict[str, list[models.Model]]] = defaultdict(lambda: defaultdict(list))
        for model, obj, attname, target, value in deferred:
            if value not in self.new_pk[target]:
                raise PortabilityError(
                    MISSING_ROW.format(label=_label(model), row="?", target=_label(target), target_row=value)
                )
            setattr(obj, attname, self.new_pk[target][value])
            by_model[model][attname].append(obj)
        for model, per_field in by_model.items():
            for attname, objs in per_field.items():
                name = next(f.name for f in model._meta.concrete_fields if f.attname == attname)
                model._base_manager.bulk_update(objs, [name], batch_size=1000)

    def _add_m2m(self, created) -> None:
        for model, pairs in created.items():
            for field in _auto_m2m(model):
                through = field.remote_field.through
                source, target_name = field.m2m_field_name(), field.m2m_reverse_field_name()
                target = field.related_model
                links = []
                for row, obj in pairs:
                    for value in row.get("m2m", {}).get(field.name, []):
                        if target in self.owned:
                            if value not in self.new_pk[target]:
                                raise PortabilityError(
                                    MISSING_ROW.format(
                                        label=_label(model), row=row["id"], target=_label(target), target_row=value
                                    )
                                )
                            target_pk = self.new_pk[target][value]
                        else:
                            target_pk = self.resolve(target, value, where=f"{_label(model)} row {row['id']}").pk
                        links.append(through(**{f"{source}_id": obj.pk, f"{target_name}_id": target_pk}))
                through._base_manager.bulk_create(links, batch_size=1000)


def cycle_import(*, data: dict) -> Cycle:
    """Restore an exported cycle. All or nothing: any problem rolls the whole import back."""
    with transaction.atomic():
        return _Importer(data).run()


def dumps(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n"

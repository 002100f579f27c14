"""Writes of the matching app: match runs, thresholds, reviews, embedding a framework version."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.jobs import error_text
from cycles.access import ONLY_CONVENER, require_role
from cycles.models import Cycle, Role
from matching import embeddings, ranking, scoring
from matching.models import (
    FrameworkImport,
    FrameworkVersion,
    MatchResult,
    MatchReview,
    MatchRun,
    MatchScores,
    Statement,
)
from workshops.models import FOP, Capability, FOPCapability

# Scores are the adopted ranking's (matching/ranking.py: cosine with a hub correction and the
# standard's context). On the hand-labelled IfATE set (tests/matching/data/) capabilities with
# provision are best told from those without at 0.48-0.50 (balanced accuracy 0.969); 0.50 is the
# default. Plain cosine's default was the hub tool's 0.558 (docs/benchmarks.md).
DEFAULT_THRESHOLD = 0.50
DEFAULT_TOP_K = 10
DEFAULT_LEVEL_WINDOW = 1

THRESHOLD_OUT_OF_RANGE = "The threshold must be between 0 and 1."
RUN_NOT_FINISHED = "The match run has not finished yet."
STATEMENT_NOT_IN_RUN = "That statement is not part of this run's framework version."
CAPABILITY_NOT_IN_RUN = "That capability is not part of this run."
NEVER_FINISHED = "The match run never finished (its worker probably stopped). Run it again."
ONLY_REVIEWERS = "Only the cycle's convener or an educator may review a match."
RUN_ROLES = (Role.CONVENER,)
REVIEW_ROLES = (Role.CONVENER, Role.EDUCATOR)


class MatchingError(ValueError):
    """An expected refusal (bad input); shown to the user, not logged as a crash."""


def _validate(threshold: float, top_k: int, level_window: int) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise MatchingError(THRESHOLD_OUT_OF_RANGE)
    if not 1 <= top_k <= 50:
        raise MatchingError("Top-k must be between 1 and 50.")
    if not 0 <= level_window <= 5:
        raise MatchingError("The level window must be between 0 and 5 levels.")


def match_run_create(
    *,
    cycle: Cycle,
    framework_version: FrameworkVersion,
    threshold: float = DEFAULT_THRESHOLD,
    level_window: int = DEFAULT_LEVEL_WINDOW,
    top_k: int = DEFAULT_TOP_K,
    created_by: User = None,
    enqueue: bool = True,
) -> MatchRun:
    """Create a queued run and enqueue it on the matching queue once the transaction commits.
    ``created_by`` is the actor (``None``: the system)."""
    require_role(cycle, created_by, RUN_ROLES, ONLY_CONVENER.format(act="start a match run"))
    _validate(threshold, top_k, level_window)
    with transaction.atomic():
        # Runs of the cycle lost by their worker stop showing as queued or running (core.jobs).
        MatchRun.fail_stale(MatchRun.objects.filter(cycle=cycle), error=NEVER_FINISHED)
        run = MatchRun.objects.create(
            cycle=cycle,
            framework_version=framework_version,
            model_name=embeddings.MODEL_NAME,
            threshold=threshold,
            level_window=level_window,
            top_k=top_k,
            created_by=created_by,
        )
        if enqueue:
            _enqueue(run.pk)
    return run


def _enqueue(run_id: int) -> None:
    from matching.tasks import match_run_execute_task

    transaction.on_commit(lambda: match_run_execute_task.delay(run_id))


def match_run_rerun(*, run: MatchRun, actor: User | None, enqueue: bool = True) -> MatchRun:
    """Compute a finished run again (e.g. after FOPs changed); its results are replaced at once."""
    require_role(run.cycle, actor, RUN_ROLES, ONLY_CONVENER.format(act="run a match again"))
    with transaction.atomic():
        updated = MatchRun.requeue(run.pk)
        if updated and enqueue:
            _enqueue(run.pk)
    run.refresh_from_db()
    return run


def match_run_set_threshold(*, run: MatchRun, actor: User | None, threshold: float) -> MatchRun:
    """Change the threshold; fit and surplus are recomputed from the stored scores (no embedding)."""
    require_role(run.cycle, actor, RUN_ROLES, ONLY_CONVENER.format(act="change a match run's threshold"))
    if not 0.0 <= threshold <= 1.0:
        raise MatchingError(THRESHOLD_OUT_OF_RANGE)
    MatchRun.objects.filter(pk=run.pk).update(threshold=threshold)
    run.threshold = threshold
    return run


def match_review_record(
    *, capability: Capability, statement: Statement, decision: str, reviewer: User, note: str = ""
) -> MatchReview:
    """Confirm or reject a capability × statement match (replaces an earlier decision);
    ``reviewer`` is the actor (``None``: the system)."""
    require_role(capability.cycle, reviewer, REVIEW_ROLES, ONLY_REVIEWERS)
    if decision not in MatchReview.Decision.values:
        raise MatchingError("The decision must be confirm or reject.")
    with transaction.atomic():
        review, _ = MatchReview.objects.update_or_create(
            capability=capability,
            statement=statement,
            defaults={"decision": decision, "reviewer": reviewer, "note": note, "at": timezone.now()},
        )
    return review


def match_review_clear(*, capability: Capability, statement: Statement, actor: User | None) -> None:
    require_role(capability.cycle, actor, REVIEW_ROLES, ONLY_REVIEWERS)
    MatchReview.objects.filter(capability=capability, statement=statement).delete()


def framework_version_embed(
    *, version: FrameworkVersion, progress: Callable[[int, int], None] | None = None, mark: bool = True
) -> int:
    """Encode every statement of a version, and each standard as its statements' context ("title.
    overview", matching/ranking.py), not yet in the store, and (``mark``) record the version as
    embedded; returns how many texts were encoded. (A bare title is never scored on its own.)"""
    before = embeddings.STATS.encoded
    texts = dict(Statement.objects.filter(version=version).values_list("text_hash", "text"))
    embeddings.vectors_by_hash(texts, progress)
    standards = version.standards.values_list("title", "extra")
    embeddings.encode([scoring.standard_context_text(title, extra) for title, extra in standards])
    if mark:
        FrameworkVersion.objects.filter(pk=version.pk).update(embedded_at=timezone.now())
    return embeddings.STATS.encoded - before


def frameworks_embed(
    *, kinds: Sequence[str] = ("ifate", "onet", "esco"), progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """Embed the latest version of each framework of ``kinds`` that is imported: its statements and
    standards, then the corpora built from it (FOP naming, KSB suggestions, the library), whose texts
    are not all statements. What ``embed_frameworks`` and the worker's warm-up do; texts already
    stored are skipped, so a second run is instant. Returns the texts encoded per version."""
    from matching.corpora import latest_version

    encoded: dict[str, int] = {}
    for kind in kinds:
        version = latest_version(kind)
        if version is None:
            continue

        def report(done: int, total: int, version=version) -> None:
            if progress is not None:
                progress(str(version), done, total)

        before = embeddings.STATS.encoded
        framework_version_embed(version=version, progress=report, mark=False)
        for key in embeddings.corpus_keys():
            if key.split(":", 1)[0] == kind:
                corpus = embeddings.get_corpus(key, report)
                if key in _RANKED_CORPORA():
                    # with its second-stage hub term (matching/ranking.py), stored for every process
                    ranking.for_corpus(corpus)
        scoring.version_matrix(version).ranking()
        # Embedded once its corpora are too: the frameworks page then says what the pages find.
        FrameworkVersion.objects.filter(pk=version.pk).update(embedded_at=timezone.now())
        encoded[str(version)] = embeddings.STATS.encoded - before
    return encoded


def _RANKED_CORPORA() -> set[str]:  # noqa: N802 - a constant, read lazily (import cycle)
    from matching.library import REFERENCE_CORPORA

    return set(REFERENCE_CORPORA)  # the KSB suggestion lists have no hub term (matching/suggestions.py)


# ESCO first: KSB suggestions wait for it, and its lists are quicker to embed than O*NET's tasks.
# Skills England last: `load_demo` has embedded the duties its cycle needs, the rest of the
# standards (about ten seconds) only so that the frameworks page shows every version embedded.
WARM_UP_KINDS = ("esco", "onet", "ifate")
WARM_UP_QUEUED_KEY = "matching:warm-up-queued"


@contextmanager
def warm_up_lock():
    """Yields True to the one warm-up running on this machine, False to any other: an exclusive
    lock on a file beside the broker's (``settings.WARM_UP_LOCK``), released when the task ends or
    its process dies. (In services mode the Redis cache already keeps a second one from being
    queued within ten minutes; this covers the embedded default, whose cache is per process.)"""
    import fcntl

    from django.conf import settings

    path = Path(settings.WARM_UP_LOCK)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def warm_up_queue(*, kinds: Sequence[str] = WARM_UP_KINDS) -> bool:
    """Queue the worker's warm-up (embed ESCO, O*NET and the rest of Skills England) unless it was queued in the last ten
    minutes; True when this call queued it. Pages call it when they find a list not yet embedded,
    `make run` once the demo is loaded."""
    from django.core.cache import cache

    from matching.tasks import warm_up

    if not cache.add(WARM_UP_QUEUED_KEY, True, timeout=600):
        return False
    transaction.on_commit(lambda: warm_up.delay(list(kinds)))
    return True


def preload_for_requests() -> None:
    """What a server reads at start (after the model, in the loading thread): the library's
    reference matrix and the suggestion lists, those already embedded, so that no request is the
    first to read 30,000 vectors. Best effort: a database not yet migrated only means later."""
    import logging

    from django.db import connection

    from core.readiness import NotReady
    from matching import library
    from matching.suggestions import CORPUS_KEYS

    try:
        library.reference_matrix()
        from matching.suggestions import corpus_ranking

        for key in CORPUS_KEYS.values():
            try:
                corpus_ranking(embeddings.get_corpus(key, stored_only=True))
            except NotReady:
                pass  # the worker's warm-up is embedding it
    except Exception as error:  # noqa: BLE001
        logging.getLogger(__name__).info("Matrices not preloaded (%s); the first request reads them", error)
    finally:
        connection.close()


# --- importing a framework from the frameworks page -----------------------------------------------

ONLY_STAFF_IMPORT = "Only a site administrator may import a reference framework."
IMPORT_NEVER_FINISHED = "The import never finished (its worker probably stopped). Start it again."
IMPORT_FILES_GONE = "The uploaded files are no longer stored: upload them again."
NOTHING_IMPORTED = "Nothing was imported. {error}"
WAITING = "Waiting for a free worker (jobs queued earlier, such as embedding a framework, come first)"


def can_import_frameworks(user) -> bool:
    """Frameworks are the whole site's (every cycle matches against them): site staff only."""
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def _require_importer(actor: User | None) -> None:
    from django.core.exceptions import PermissionDenied

    if not can_import_frameworks(actor):
        raise PermissionDenied(ONLY_STAFF_IMPORT)


def _enqueue_import(job_id: int) -> None:
    from matching.tasks import framework_import_task

    transaction.on_commit(lambda: framework_import_task.delay(job_id))


def framework_import_create(*, kind: str, files, label: str = "", actor: User | None) -> FrameworkImport:
    """Store the uploaded files and queue their import (checked by ``uploads.check`` first: a
    source of the wrong shape is refused here, before anything is stored)."""
    from matching.importers import uploads

    _require_importer(actor)
    problem = uploads.check(kind, [f.name for f in files])
    if problem:
        raise MatchingError(problem)
    FrameworkImport.fail_stale(error=IMPORT_NEVER_FINISHED)
    stored = uploads.store(files)
    with transaction.atomic():
        job = FrameworkImport.objects.create(
            kind=kind, label=label.strip(), files=stored, created_by=actor, progress_note=WAITING
        )
        _enqueue_import(job.pk)
    return job


def framework_import_retry(*, job: FrameworkImport, actor: User | None) -> FrameworkImport:
    """Start a failed import again with the same files (there while it has not succeeded)."""
    from matching.importers import uploads

    _require_importer(actor)
    if job.status != FrameworkImport.Status.FAILED:
        raise MatchingError("Only a failed import can be started again.")
    if not uploads.available(job.files):
        raise MatchingError(IMPORT_FILES_GONE)
    with transaction.atomic():
        if FrameworkImport.requeue(job.pk, note=WAITING):
            _enqueue_import(job.pk)
    job.refresh_from_db()
    return job


def framework_import_execute(*, job_id: int) -> bool:
    """Import a queued upload (the worker's side): False when it was not ours. A source the
    importer refuses fails the job with the importer's message and nothing written; the files are
    then discarded (the same files would fail again). A new version is embedded next, by its own
    task, whose progress the frameworks page shows."""
    import tempfile

    from matching.importers import FrameworkImportError, import_framework, uploads

    if not FrameworkImport.claim(job_id, note="Reading and checking the files"):
        return False
    job = FrameworkImport.objects.select_related("created_by").get(pk=job_id)

    def report(percent: int, note: str) -> None:
        FrameworkImport.report_progress(job_id, percent, note)

    try:
        with FrameworkImport.kept_alive(job_id), tempfile.TemporaryDirectory(prefix="framework-import-") as scratch:
            source = uploads.source(job.kind, job.files, Path(scratch))
            outcome = import_framework(job.kind, source, label=job.label or None, user=job.created_by, progress=report)
    except FrameworkImportError as exc:
        FrameworkImport.fail(job_id, NOTHING_IMPORTED.format(error=exc))
        uploads.discard(job.files)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job for the user to see
        import logging

        logging.getLogger(__name__).exception("Framework import %s failed", job_id)
        FrameworkImport.fail(job_id, error_text(exc))
        return True
    version = outcome.version
    if outcome.created:
        uploaded = ", ".join(job.file_names)
        FrameworkVersion.objects.filter(pk=version.pk).update(source=f"Uploaded: {uploaded}"[:500])
    if FrameworkImport.finish(job_id, version=version, outcome=outcome.message[:500]):
        uploads.discard(job.files)
        if outcome.created:
            from matching.tasks import framework_version_embed_task

            framework_version_embed_task.delay(version.pk)
    return True


# --- executing a run ----------------------------------------------------------------------------


def _progress(run_id: int, percent: int, note: str) -> None:
    MatchRun.report_progress(run_id, percent, note)


def run_capabilities(cycle: Cycle) -> tuple[list[Capability], dict[int, dict]]:
    """The capabilities a run compares: the cycle's FOP capabilities, or all accepted capabilities
    before any FOP exists; and the FOPs (capability ids and role-level range) as they stand."""
    fops = list(FOP.objects.filter(cycle=cycle).select_related("role_level").order_by("id"))
    snapshot: dict[int, dict] = {}
    if fops:
        entries = FOPCapability.objects.filter(fop__in=fops).values_list("fop_id", "capability_id")
        members: dict[int, list[int]] = {}
        for fop_id, capability_id in entries:
            members.setdefault(fop_id, []).append(capability_id)
        for fop in fops:
            level = fop.role_level
            snapshot[fop.pk] = {
                "capabilities": sorted(members.get(fop.pk, [])),
                "levels": [level.academic_level_min, level.academic_level_max] if level else None,
            }
        ids = {c for entry in snapshot.values() for c in entry["capabilities"]}
        capabilities = list(Capability.objects.filter(pk__in=ids).order_by("ref", "id"))
    else:
        capabilities = list(
            Capability.objects.filter(cycle=cycle, status=Capability.Status.ACCEPTED).order_by("ref", "id")
        )
    return capabilities, snapshot


def match_run_execute(*, run_id: int) -> bool:
    """Compute a run: returns False when it was not ours to compute (finished, or another worker).
    Claimed with core.jobs' conditional UPDATE: two workers never compute the same run."""
    if not MatchRun.claim(run_id):
        return False
    try:
        with MatchRun.kept_alive(run_id):
            _compute(run_id)
    except Exception as exc:
        MatchRun.fail(run_id, error_text(exc))
        raise
    return True


def _compute(run_id: int) -> None:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    run = MatchRun.objects.select_related("framework_version__framework", "cycle").get(pk=run_id)
    version = run.framework_version

    mark = time.perf_counter()
    capabilities, snapshot = run_capabilities(run.cycle)
    timings["load_capabilities"] = time.perf_counter() - mark

    _progress(run_id, 5, f"Loading {version} statements")
    mark = time.perf_counter()

    def embedding_progress(done: int, total: int) -> None:
        _progress(run_id, 5 + int(60 * done / max(total, 1)), f"Embedding statements: {done:,} of {total:,}")

    encoded_before = embeddings.STATS.encoded
    vm = scoring.version_matrix(version)
    vm.vectors(progress=embedding_progress)
    vm.ranking()
    timings["load_statements"] = time.perf_counter() - mark

    _progress(run_id, 70, f"Embedding {len(capabilities)} capabilities")
    mark = time.perf_counter()
    capability_vectors = embeddings.encode([c.statement for c in capabilities])
    timings["embed_capabilities"] = time.perf_counter() - mark

    _progress(run_id, 80, "Scoring")
    mark = time.perf_counter()
    # Every capability against every distinct statement text: small (capabilities are ≤ a few
    # hundred), kept as float16 so thresholds and reviews can be re-applied later.
    # The adopted ranking (matching/ranking.py): cosine, then the second stage over every column.
    scores = ranking.score_all(capability_vectors, vm.ranking()).astype(np.float16)
    # Everything below uses the stored precision, so later recomputations agree to the digit.
    scores = scores.astype(np.float32)

    windows: dict[int, tuple[int, int] | None] = {}
    for entry in snapshot.values():
        fop_window = scoring.window(tuple(entry["levels"]) if entry["levels"] else None, run.level_window)
        entry["window"] = list(fop_window) if fop_window else None
        for capability_id in entry["capabilities"]:
            windows.setdefault(capability_id, []).append(fop_window)
    capability_windows = {c.pk: scoring.union_window(windows.get(c.pk, [])) for c in capabilities}
    if not vm.has_levels:
        capability_windows = dict.fromkeys(capability_windows)

    results: list[MatchResult] = []
    by_window: dict[tuple[int, int] | None, list[int]] = {}
    for row, capability in enumerate(capabilities):
        by_window.setdefault(capability_windows[capability.pk], []).append(row)
    for levels, rows in by_window.items():
        mask = vm.level_mask(levels)
        for start in range(0, len(rows), 64):
            chunk = rows[start : start + 64]
            block = scores[chunk][:, vm.columns]  # (chunk, N) per statement
            if mask is not None:
                block = np.where(mask, block, -np.inf)
            indices, values = scoring.top_k_rows(block, run.top_k)
            for r, row in enumerate(chunk):
                for rank, (i, value) in enumerate(zip(indices[r], values[r], strict=True), start=1):
                    if np.isfinite(value):
                        results.append(
                            MatchResult(
                                run_id=run_id,
                                capability_id=capabilities[row].pk,
                                rank=rank,
                                statement_id=int(vm.statement_ids[i]),
                                score=float(value),
                            )
                        )
    timings["score"] = time.perf_counter() - mark

    _progress(run_id, 95, "Saving results")
    mark = time.perf_counter()
    with transaction.atomic():
        MatchResult.objects.filter(run_id=run_id).delete()
        MatchResult.objects.bulk_create(results, batch_size=2000)
        MatchScores.objects.update_or_create(
            run_id=run_id,
            defaults={
                "capability_ids": np.array([c.pk for c in capabilities], dtype=np.int64).tobytes(),
                "column_hashes": b"".join(bytes.fromhex(h) for h in vm.hashes),
                "matrix": scores.astype(np.float16).tobytes(),
                "rows": len(capabilities),
                "columns": len(vm.hashes),
            },
        )
        timings["save"] = time.perf_counter() - mark
        timings["total"] = time.perf_counter() - started
        finished = MatchRun.finish(
            run_id,
            timings={k: round(v, 4) for k, v in timings.items()},
            counts={
                "capabilities": len(capabilities),
                "fops": len(snapshot),
                "statements": int(len(vm.statement_ids)),
                "distinct_texts": len(vm.hashes),
                "standards": int(len(vm.standard_ids)),
                "results": len(results),
                "encoded": embeddings.STATS.encoded - encoded_before,
                "ranking": ranking.NAME if vm.ranking().second_stage else "plain cosine",
            },
            windows={str(k): list(v) if v else None for k, v in capability_windows.items()},
            fop_snapshot={str(k): v for k, v in snapshot.items()},
        )
        if not finished:
            # No longer ours (marked lost meanwhile): keep what the run showed before.
            transaction.set_rollback(True)

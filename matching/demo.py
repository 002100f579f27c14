"""Demo data for matching: the three reference frameworks and a match run of the point-of-care cycle.

Idempotent: an import of an already imported file changes nothing, texts already embedded are
not encoded again, and the demo run is recomputed only when the cycle's FOPs or capabilities
changed since it last ran.

Embedding O*NET (18,796 tasks) and ESCO (13,896 skills, 3,007 occupations) takes a few minutes
on two cores, so the demo embeds only the IfATE duties it matches against and queues the rest for
the worker `make run` starts (``matching.tasks.warm_up``); ``python manage.py embed_frameworks``
does it in the foreground, and ``MATCHING_DEMO_EMBED_ALL=1`` here.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings

from cycles.models import Cycle
from matching import services
from matching.importers import FrameworkImportError, import_framework
from matching.models import MatchRun

DEMO_CYCLE = "poc_manufacturing_2025"
SOURCES = {
    "ifate": ("ifate", "standards_2020.json"),
    "onet": ("onet", None),
    "esco": ("esco", None),
}


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def load(data_dir: Path, stdout=None) -> MatchRun | None:
    versions = {}
    for kind, (folder, name) in SOURCES.items():
        source = Path(data_dir) / folder / name if name else Path(data_dir) / folder
        if not source.exists():
            _say(stdout, f"  {kind}: {source} not found, skipped.")
            continue
        started = time.perf_counter()
        try:
            outcome = import_framework(kind, str(source))
        except FrameworkImportError as exc:
            _say(stdout, f"  {kind}: not imported: {exc}")
            continue
        versions[kind] = outcome.version
        _say(stdout, f"  {outcome.message} ({time.perf_counter() - started:.1f} s)")

    # The demo run embeds the IfATE duties it needs by itself; the rest waits for the worker.
    embed_all = settings.MATCHING_DEMO_EMBED_ALL
    for version in versions.values():
        if version.embedded_at is not None or not embed_all:
            continue
        started = time.perf_counter()
        encoded = services.framework_version_embed(version=version)
        _say(stdout, f"  Embedded {version}: {encoded:,} new texts ({time.perf_counter() - started:.1f} s)")
    if not embed_all and any(v.embedded_at is None for v in versions.values()):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # No worker to hand it to (tasks run in-process): embedding here would take minutes.
            _say(stdout, "  Not every framework is embedded yet: run `python manage.py embed_frameworks`.")
        else:
            services.warm_up_queue()
            _say(
                stdout,
                "  The worker embeds ESCO, O*NET and the rest of the IfATE standards in the background (a few "
                "minutes: suggestions and the library show how far it is meanwhile).",
            )

    cycle = Cycle.objects.filter(slug=DEMO_CYCLE).first()
    if cycle is None or "ifate" not in versions:
        return None
    run = _demo_run(cycle, versions["ifate"], stdout)
    _calibrate(stdout)
    return run


def _calibrate(stdout) -> None:
    """IfATE's calibration (score → estimated precision) from the labelled set and any reviews."""
    from matching import calibration

    if not calibration.LABELLED_SET.exists():
        return
    started = time.perf_counter()
    record = calibration.recompute("ifate")
    if record is not None:
        _say(
            stdout,
            f"  Calibrated IfATE matching on {len(record.pairs)} labelled pairs ({time.perf_counter() - started:.1f} s).",
        )


def _demo_run(cycle: Cycle, version, stdout) -> MatchRun:
    capabilities, snapshot = services.run_capabilities(cycle)
    wanted_fops = {str(k): v["capabilities"] for k, v in snapshot.items()}
    run = (
        MatchRun.objects.filter(cycle=cycle, framework_version=version, status=MatchRun.Status.DONE)
        .order_by("-finished_at")
        .first()
    )
    if run is not None:
        same_fops = {k: v["capabilities"] for k, v in (run.fop_snapshot or {}).items()} == wanted_fops
        same_capabilities = set(run.windows or {}) == {str(c.pk) for c in capabilities}
        if same_fops and same_capabilities:
            _say(stdout, f"  Demo match run #{run.pk} is up to date.")
            return run
        services.match_run_rerun(run=run, actor=None, enqueue=False)
    else:
        run = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
    services.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    summary = f"{run.counts.get('capabilities', 0)} capabilities in {run.timings.get('total', 0):.1f} s"
    _say(stdout, f"  Demo match run #{run.pk} of {cycle.slug} against {version}: {summary}.")
    return run

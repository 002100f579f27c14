"""Second-stage candidates for bench/matching_quality.py: each measured on every set, beside plain
cosine (imported by the bench once Django is set up)."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.core.management import call_command

from matching import embeddings, ranking, scoring
from matching.corpora import latest_version
from matching.lexical import LexicalIndex
from matching.models import Standard, Statement

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "matching" / "data" / "ifate_labelled.csv"


@dataclass
class Problem:
    """Queries × candidate columns, and what each candidate may use."""

    name: str
    cos: np.ndarray  # (Q, U) plain cosine
    column_hub: np.ndarray  # (U,) statements' density among themselves
    row_hub: np.ndarray  # (Q,) queries' mean top-k cosine over the columns
    lexical: np.ndarray | None = None  # (Q, U) char n-gram TF-IDF cosine
    contexts: dict[str, np.ndarray] = field(default_factory=dict)  # name → (Q, U)
    background_hub: np.ndarray | None = None  # (U,) statements' density among capability-like texts
    exclude: np.ndarray | None = None  # (Q,) column to exclude per row (the query itself)
    queries: np.ndarray | None = None  # (Q, DIM) query vectors
    cands: ranking.Candidates | None = None  # the product's second stage over these columns


def _done(scores: np.ndarray, p: Problem) -> np.ndarray:
    scores = np.array(scores, dtype=np.float64, copy=True)
    if p.exclude is not None:
        scores[np.arange(len(scores)), p.exclude] = -np.inf
    return scores


def candidates() -> list[tuple[str, object]]:
    """(label, f(problem) -> scores or None when the candidate does not apply)."""

    def cosine(p):
        return p.cos

    def hub(beta, k_label="self"):
        def f(p):
            h = p.column_hub if k_label == "self" else p.background_hub
            if h is None:
                return None
            return ranking.hub_corrected(p.cos, h, beta)

        return f

    def full_csls(p):
        return ranking.csls(p.cos, p.column_hub, p.row_hub)

    def context(name, gamma):
        def f(p):
            if name not in p.contexts:
                return None
            return ranking.with_context(p.cos, p.contexts[name], gamma)

        return f

    def fusion(p):
        if p.lexical is None:
            return None
        cos = _done(p.cos, p)
        return ranking.rank_fusion(cos, p.lexical, ranking.CANDIDATES)

    def hub_and_context(beta, name, gamma, hub_name="self"):
        def f(p):
            h = p.column_hub if hub_name == "self" else p.background_hub
            if h is None:
                return None
            base = ranking.with_context(p.cos, p.contexts[name], gamma) if name in p.contexts else p.cos
            return ranking.hub_corrected(base, h, beta)

        return f

    def hub_penalty_and_context(beta, name, gamma):
        # The hub term as a penalty only: statements denser than the median lose, the rest keep
        # their cosine (the symmetric term also lifts isolated statements above relevant ones).
        def f(p):
            centre = float(np.median(p.column_hub))
            base = ranking.with_context(p.cos, p.contexts[name], gamma) if name in p.contexts else p.cos
            return ranking.hub_corrected(base, np.maximum(p.column_hub, centre), beta, centre)

        return f

    def adopted(p):
        if p.cands is None:
            return None
        return ranking.score_all(p.queries, p.cands)

    return [
        (f"**adopted: matching.ranking** ({ranking.NAME})", adopted),
        ("plain cosine", cosine),
        ("hub β 0.5 (r_d: statements among themselves, k 10)", hub(0.5)),
        ("hub β 1.0 (same)", hub(1.0)),
        ("hub β 1.0 (r_d: among O*NET tasks, k 10)", hub(1.0, "background")),
        ("CSLS 2·cos − r_q − r_d", full_csls),
        ("context: standard title + overview, γ 0.1", context("title", 0.1)),
        ("context: standard title + overview, γ 0.2", context("title", 0.2)),
        ("context: mapped skills, γ 0.1", context("skills", 0.1)),
        ("context: mapped skills, γ 0.2", context("skills", 0.2)),
        ("lexical rank fusion (RRF over top 50)", fusion),
        ("hub β 0.25 (self)", hub(0.25)),
        ("hub β 0.75 (self)", hub(0.75)),
        ("hub β 0.5 (r_d among O*NET tasks)", hub(0.5, "background")),
        ("hub β 1.0 + title context γ 0.1", hub_and_context(1.0, "title", 0.1)),
        ("hub β 0.5 + skills context γ 0.1", hub_and_context(0.5, "skills", 0.1)),
        ("hub β 0.5 + title context γ 0.1", hub_and_context(0.5, "title", 0.1)),
        ("hub β 0.5 + skills context γ 0.05", hub_and_context(0.5, "skills", 0.05)),
        ("hub β 0.25 + skills context γ 0.1", hub_and_context(0.25, "skills", 0.1)),
        ("hub penalty only β 0.5 + title context γ 0.1", hub_penalty_and_context(0.5, "title", 0.1)),
        ("hub penalty only β 0.75 + title context γ 0.1", hub_penalty_and_context(0.75, "title", 0.1)),
        ("hub penalty only β 1.0 + title context γ 0.1", hub_penalty_and_context(1.0, "title", 0.1)),
    ]


# --- measures -------------------------------------------------------------------------------------


def ranks_of(scores: np.ndarray, relevant: list[set[int]]) -> np.ndarray:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :100]
    out = np.full(len(relevant), 1000, dtype=np.int64)
    for row, rel in enumerate(relevant):
        hits = np.flatnonzero(np.isin(order[row], list(rel)))
        if len(hits):
            out[row] = hits[0] + 1
    return out


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a capability with provision outscores one without), ties half."""
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def best_balanced(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """(balanced accuracy, threshold) best over every cut between observed scores; when several
    cuts tie, the middle of the range they span."""
    cuts = np.unique(np.concatenate([pos, neg]))
    if not len(cuts):
        return 0.0, 0.0
    values = np.array([0.5 * (np.mean(pos >= t) + np.mean(neg < t)) for t in cuts])
    best = values.max()
    tied = cuts[np.isclose(values, best)]
    # a cut t serves scores >= t: the middle between the lowest tied cut and the score below it
    # would also do; the midpoint of the tied range is the least arbitrary.
    return float(best), float((tied.min() + tied.max()) / 2)


def balanced_at(pos: np.ndarray, neg: np.ndarray, t: float) -> float:
    return float(0.5 * (np.mean(pos >= t) + np.mean(neg < t)))


# --- the IfATE problems ---------------------------------------------------------------------------


def ifate_version(data: Path):
    version = latest_version("ifate")
    if version is None:
        call_command("import_framework", "ifate", str(data / "ifate" / "standards_2020.json"), verbosity=0)
        version = latest_version("ifate")
    return version


def read_labelled() -> tuple[list[dict], list[str]]:
    with LABELLED.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pairs = [r for r in rows if r["standard_ref"]]
    none = [r["capability"] for r in rows if not r["standard_ref"]]
    return pairs, none


@dataclass
class IfateContext:
    vm: scoring.VersionMatrix
    vectors: np.ndarray  # (U, DIM)
    title_vectors: np.ndarray  # (U, DIM) "title. overview" of each column's (first) standard
    skill_vectors: np.ndarray  # (U, DIM) normalised mean of the mapped skills (duty itself if none)
    column_hub: np.ndarray
    background_hub: np.ndarray | None
    lexical: LexicalIndex
    column_of_ref: dict[tuple[str, str], int]  # (standard ref, duty code) → column


def ifate_context(version, background: np.ndarray | None) -> IfateContext:
    vm = scoring.version_matrix(version)
    vectors = vm.vectors()
    standards = {s.pk: s for s in Standard.objects.filter(version=version)}
    duties = {
        s.pk: s
        for s in Statement.objects.filter(version=version, kind=Statement.Kind.DUTY).only("id", "standard_id", "extra")
    }
    skills = {
        (s.standard_id, s.ref): s.text
        for s in Statement.objects.filter(version=version, kind=Statement.Kind.SKILL).only("standard_id", "ref", "text")
    }
    title_text = [""] * len(vm.hashes)
    skill_texts: list[list[str]] = [[] for _ in vm.hashes]
    column_of_ref = {}
    for i, statement_id in enumerate(vm.statement_ids):
        duty = duties[int(statement_id)]
        standard = standards[duty.standard_id]
        column = int(vm.columns[i])
        column_of_ref[(standard.ref, duty.extra.get("code"))] = column
        if not title_text[column]:
            overview = " ".join(str(standard.extra.get("overviewOfRole") or "").split())
            title_text[column] = f"{standard.title}. {overview}"[:600]
            for skill_id in duty.extra.get("ksbs", {}).get("skills", []):
                text = skills.get((duty.standard_id, skill_id))
                if text:
                    skill_texts[column].append(text)
    title_vectors = embeddings.encode(title_text)
    flat = sorted({t for texts in skill_texts for t in texts})
    flat_vectors = embeddings.encode(flat) if flat else np.zeros((0, embeddings.DIM), np.float32)
    index = {t: i for i, t in enumerate(flat)}
    skill_vectors = np.array(vectors, copy=True)
    for column, texts in enumerate(skill_texts):
        if texts:
            mean = flat_vectors[[index[t] for t in texts]].mean(axis=0)
            skill_vectors[column] = mean / max(np.linalg.norm(mean), 1e-9)
    return IfateContext(
        vm=vm,
        vectors=vectors,
        title_vectors=title_vectors,
        skill_vectors=skill_vectors,
        column_hub=ranking.hubness(vectors),
        background_hub=ranking.hubness(vectors, background) if background is not None else None,
        lexical=LexicalIndex(vm.texts),
        column_of_ref=column_of_ref,
    )


def ifate_problem(name: str, ctx: IfateContext, queries: list[str]) -> Problem:
    q = embeddings.encode(queries)
    cos = q @ ctx.vectors.T
    return Problem(
        name=name,
        queries=q,
        cands=ctx.vm.ranking(),
        cos=cos,
        column_hub=ctx.column_hub,
        row_hub=ranking.hubness(q, ctx.vectors),
        lexical=ctx.lexical.scores(queries),
        contexts={"title": q @ ctx.title_vectors.T, "skills": q @ ctx.skill_vectors.T},
        background_hub=ctx.background_hub,
    )


def poc_capabilities(data: Path) -> tuple[list[str], np.ndarray]:
    """The point-of-care report's capabilities with a provision status: statements and served flags
    (status match/partial), the 'unknown' ones left out."""
    cycle = json.loads((data / "seed_cycles" / "poc_manufacturing_2025.json").read_text(encoding="utf-8"))
    rows = [
        c for c in cycle["capabilities"] if (c.get("provision") or {}).get("status") in ("match", "partial", "none")
    ]
    return [c["statement"] for c in rows], np.array([c["provision"]["status"] != "none" for c in rows])


def evaluate(
    onet_problems: tuple[Problem, list[set[int]], Problem, list[set[int]]] | None,
    ctx: IfateContext,
    data: Path,
    print_table=print,
) -> dict[str, dict]:
    pairs, none = read_labelled()
    labelled = ifate_problem("labelled", ctx, [p["capability"] for p in pairs] + none)
    relevant = []
    for p in pairs:
        cols = {ctx.column_of_ref[(p["standard_ref"], p["duty_code"])]}
        for alt in filter(None, p["also"].split(";")):
            ref, code = alt.split(":")
            cols.add(ctx.column_of_ref[(ref, code)])
        relevant.append(cols)
    n_pairs = len(pairs)
    poc_texts, poc_served = poc_capabilities(data)
    poc = ifate_problem("poc", ctx, poc_texts)

    results: dict[str, dict] = {}
    for label, f in candidates():
        row: dict[str, float | None] = {}
        scores = f(labelled)
        if scores is None:
            continue
        scores = _done(scores, labelled)
        ranks = ranks_of(scores[:n_pairs], relevant)
        row["R@1"] = float(np.mean(ranks <= 1))
        row["R@5"] = float(np.mean(ranks <= 5))
        row["MRR"] = float(np.mean(np.where(ranks <= 100, 1.0 / ranks, 0.0)))
        best = np.max(np.where(np.isfinite(scores), scores, -np.inf), axis=1)
        row["AUC"] = auc(best[:n_pairs], best[n_pairs:])
        own_accuracy, own_threshold = best_balanced(best[:n_pairs], best[n_pairs:])
        row["own threshold"] = own_threshold
        poc_scores = f(poc)
        poc_best = np.max(_done(poc_scores, poc), axis=1)
        row["PoC bal. acc. (own threshold)"] = balanced_at(poc_best[poc_served], poc_best[~poc_served], own_threshold)
        row["PoC bal. acc. at 0.56"] = balanced_at(poc_best[poc_served], poc_best[~poc_served], 0.56)
        row["PoC bal. acc. (best threshold)"] = best_balanced(poc_best[poc_served], poc_best[~poc_served])[0]
        if onet_problems is not None:
            sib, sib_rel, rev, rev_rel = onet_problems
            s = f(sib)
            if s is not None:
                r = ranks_of(_done(s, sib), sib_rel)
                row["DWA R@1"], row["DWA R@10"] = float(np.mean(r <= 1)), float(np.mean(r <= 10))
                del s
            s = f(rev)
            if s is not None:
                r = ranks_of(_done(s, rev), rev_rel)
                row["revisions R@1"] = float(np.mean(r <= 1))
        # Cost of the second stage per 100 capabilities against the 911 duties.
        hundred = Problem(
            "timing",
            queries=labelled.queries[np.arange(100) % len(labelled.cos)],
            cands=labelled.cands,
            cos=labelled.cos[np.arange(100) % len(labelled.cos)],
            column_hub=ctx.column_hub,
            row_hub=labelled.row_hub[np.arange(100) % len(labelled.cos)],
            lexical=labelled.lexical[np.arange(100) % len(labelled.cos)],
            contexts={k: v[np.arange(100) % len(labelled.cos)] for k, v in labelled.contexts.items()},
            background_hub=ctx.background_hub,
        )
        started = time.perf_counter()
        f(hundred)
        row["ms / 100 capabilities"] = (time.perf_counter() - started) * 1000
        results[label] = row
    columns = [
        "R@1",
        "R@5",
        "MRR",
        "AUC",
        "DWA R@1",
        "DWA R@10",
        "revisions R@1",
        "PoC bal. acc. (own threshold)",
        "PoC bal. acc. at 0.56",
        "PoC bal. acc. (best threshold)",
        "own threshold",
        "ms / 100 capabilities",
    ]
    print_table(
        f"\nSecond stage · labelled IfATE set ({n_pairs} capability → duty pairs, {len(none)} without provision, "
        f"{len(ctx.vm.hashes)} distinct duty texts) · O*NET DWA siblings and revisions · point-of-care report "
        f"({int(poc_served.sum())} served / {int((~poc_served).sum())} not)\n"
    )
    print_table("| candidate | " + " | ".join(columns) + " |")
    print_table("|---|" + "---|" * len(columns))
    for label, row in results.items():
        cells = []
        for c in columns:
            v = row.get(c)
            cells.append("—" if v is None else (f"{v:.1f}" if c.startswith("ms") else f"{v:.3f}"))
        print_table(f"| {label} | " + " | ".join(cells) + " |")
    return results

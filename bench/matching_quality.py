#!/usr/bin/env python
"""Matching quality on data nobody labelled by hand (figures go to docs/benchmarks.md).

1. O*NET tasks that share a detailed work activity (DWA) are near-paraphrases: for a sample of
   tasks, retrieve among all 18,796 tasks (itself excluded) and report recall@1/5/10 (a sibling in
   the top k) and MRR (of the first sibling).
2. The 48 original → revised task pairs of ``Emerging Tasks.txt``: the revised text retrieves the
   original among all tasks (recall@1/5/10, MRR).
3. Threshold calibration: cosine of sibling pairs (positives) against random pairs of tasks
   sharing no DWA, IWA or occupation (negatives), balanced; the threshold with the best F1 is the
   default, and precision/recall are reported at it (also for the revision pairs and at 0.558,
   the hub tool's threshold).
4. A hybrid with a lexical score, (1 − α)·cosine + α·TF-IDF cosine, over α: adopted only if it
   improves retrieval and separation on both sets.

5. The second stage (``matching/ranking.py``): every candidate beside plain cosine on the
   hand-labelled IfATE set (``tests/matching/data/ifate_labelled.csv``: capability → duty R@1/R@5,
   MRR, and AUC of capabilities with provision against those without), the DWA siblings and
   revision pairs, and the point-of-care report's provision statuses (balanced accuracy at the
   threshold best on the labelled set, and at the best threshold for the report itself).

6. Library search without the cycle's accent (issue 14): ``library.library_search`` inside cycles
   whose statements share a domain word (``tests/matching/data/library_cycle_accent.json``, real
   cycles of this database, O*NET and ESCO imported and embedded), each discount of the cycle's
   mean direction side by side from none up; then the measures it must not harm, through the
   library's own ranking (O*NET tasks + ESCO skills, hub term): DWA siblings and revision pairs
   searched inside a mixed cycle and inside their occupation as the cycle, without and with the
   discount, and the search's server time.

    python bench/matching_quality.py [--queries 3000] [--only-ranking] [--only-library]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.pop("DATABASE_URL", None)
os.environ["SQLITE_PATH"] = os.environ.get("BENCH_SQLITE_PATH", str(ROOT / "var" / "bench" / "matching.sqlite3"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
Path(os.environ["SQLITE_PATH"]).parent.mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from matching import embeddings, services  # noqa: E402

HUB_THRESHOLD = 0.558


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def load(data: Path):
    tasks = read(data / "Task Statements.txt")
    ids = [r["Task ID"] for r in tasks]
    index = {task_id: i for i, task_id in enumerate(ids)}
    texts = [r["Task"] for r in tasks]
    occupation = np.array([hash(r["O*NET-SOC Code"]) for r in tasks])
    dwas: dict[str, set[int]] = defaultdict(set)
    task_dwas: dict[int, set[str]] = defaultdict(set)
    for row in read(data / "Tasks to DWAs.txt"):
        i = index.get(row["Task ID"])
        if i is not None:
            dwas[row["DWA ID"]].add(i)
            task_dwas[i].add(row["DWA ID"])
    revisions = [
        (r["Task"], index[str(int(float(r["Original Task ID"])))])
        for r in read(data / "Emerging Tasks.txt")
        if r["Category"] == "Revision" and r["Original Task ID"] and str(int(float(r["Original Task ID"]))) in index
    ]
    return ids, texts, occupation, dwas, task_dwas, revisions


def ranks_of(scores: np.ndarray, relevant: list[set[int]]) -> np.ndarray:
    """Rank (1-based) of the first relevant item per row; scores already exclude the query."""
    order = np.argsort(-scores, axis=1)[:, :100]
    out = np.full(len(relevant), 1000, dtype=np.int64)
    for row, rel in enumerate(relevant):
        for rank, j in enumerate(order[row], start=1):
            if j in rel:
                out[row] = rank
                break
    return out


def sibling_queries(texts, dwas, task_dwas, n: int, rng) -> tuple[np.ndarray, list[set[int]]]:
    """``n`` sampled tasks that share a DWA with another task, and each one's siblings (every task
    sharing one of its DWAs, itself left out): the DWA sibling set of every bench here."""
    with_siblings = [i for i in range(len(texts)) if any(len(dwas[d]) > 1 for d in task_dwas[i])]
    queries = rng.choice(with_siblings, size=min(n, len(with_siblings)), replace=False)
    return queries, [set().union(*(dwas[d] for d in task_dwas[i])) - {i} for i in queries]


def retrieval(ranks: np.ndarray) -> dict[str, float]:
    return {
        "R@1": float(np.mean(ranks <= 1)),
        "R@5": float(np.mean(ranks <= 5)),
        "R@10": float(np.mean(ranks <= 10)),
        "MRR": float(np.mean(np.where(ranks <= 100, 1.0 / ranks, 0.0))),
    }


def best_f1(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float, float, float]:
    best = (0.0, 0.0, 0.0, 0.0)
    for t in np.arange(0.20, 0.95, 0.005):
        tp, fp = float(np.sum(pos >= t)), float(np.sum(neg >= t))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / len(pos)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best[0]:
            best = (f1, float(t), precision, recall)
    return best


def at(pos: np.ndarray, neg: np.ndarray, t: float) -> tuple[float, float]:
    tp, fp = float(np.sum(pos >= t)), float(np.sum(neg >= t))
    return (tp / (tp + fp) if tp + fp else 0.0), tp / len(pos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--only-ranking", action="store_true", help="only section 5 (the second stage)")
    parser.add_argument("--only-library", action="store_true", help="only section 6 (library search, cycle accent)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    data = Path(settings.SHARED_DATA_DIR) / "onet"
    ids, texts, occupation, dwas, task_dwas, revisions = load(data)
    rng = np.random.default_rng(0)
    vectors = embeddings.encode(texts, progress=lambda d, t: print(f"(embedding tasks {d:,}/{t:,})", flush=True))
    revised = embeddings.encode([text for text, _ in revisions])

    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", ngram_range=(1, 2), min_df=2)
    lexical = tfidf.fit_transform([embeddings.normalise(t) for t in texts])
    lexical_revised = tfidf.transform([embeddings.normalise(t) for t, _ in revisions])

    queries, siblings = sibling_queries(texts, dwas, task_dwas, args.queries, rng)

    # Calibration pairs: one sibling per query (positives) against random unrelated tasks.
    pos_pairs = [(int(q), int(rng.choice(sorted(s)))) for q, s in zip(queries, siblings, strict=True)]
    iwa_of = {i: {d.rsplit(".", 1)[0] for d in task_dwas[i]} for i in range(len(texts))}
    neg_pairs = []
    while len(neg_pairs) < len(pos_pairs):
        a, b = (int(x) for x in rng.integers(0, len(texts), 2))
        if a != b and occupation[a] != occupation[b] and not (iwa_of[a] & iwa_of[b]):
            neg_pairs.append((a, b))

    if args.only_ranking:
        second_stage(data, texts, vectors, revised, revisions, queries, siblings)
        return
    if args.only_library:
        library_accent(texts, vectors, occupation, revised, revisions, queries, siblings)
        return

    print(
        f"\nMatching quality · {len(texts):,} O*NET tasks · {len(queries):,} sibling queries · {len(revisions)} revision pairs\n"
    )
    print(
        "| α (lexical share) | DWA siblings R@1 / R@5 / R@10 / MRR | revisions R@1 / R@5 / R@10 / MRR | best F1 (threshold) |"
    )
    print("|---|---|---|---|")
    results = {}
    for alpha in (0.0, 0.1, 0.2, 0.3, 0.5):
        dense_q = vectors[queries] @ vectors.T
        scores = (1 - alpha) * dense_q + alpha * (lexical[queries] @ lexical.T).toarray() if alpha else dense_q
        scores[np.arange(len(queries)), queries] = -np.inf
        sib = retrieval(ranks_of(scores, siblings))
        rev_scores = (1 - alpha) * (revised @ vectors.T) + (
            alpha * (lexical_revised @ lexical.T).toarray() if alpha else 0
        )
        rev = retrieval(ranks_of(rev_scores, [{target} for _, target in revisions]))

        def pair_scores(pairs, alpha=alpha):
            a = np.array([p[0] for p in pairs])
            b = np.array([p[1] for p in pairs])
            dense = np.sum(vectors[a] * vectors[b], axis=1)
            if not alpha:
                return dense
            lex = np.asarray(lexical[a].multiply(lexical[b]).sum(axis=1)).ravel()
            return (1 - alpha) * dense + alpha * lex

        pos, neg = pair_scores(pos_pairs), pair_scores(neg_pairs)
        f1, threshold, precision, recall = best_f1(pos, neg)
        results[alpha] = (sib, rev, f1, threshold, precision, recall, pos, neg)
        print(
            f"| {alpha:.1f} | {sib['R@1']:.3f} / {sib['R@5']:.3f} / {sib['R@10']:.3f} / {sib['MRR']:.3f} "
            f"| {rev['R@1']:.3f} / {rev['R@5']:.3f} / {rev['R@10']:.3f} / {rev['MRR']:.3f} | {f1:.3f} ({threshold:.3f}) |"
        )

    sib, rev, f1, threshold, precision, recall, pos, neg = results[0.0]
    revision_cosines = np.sum(revised * vectors[[t for _, t in revisions]], axis=1)

    # The setting of a match run: every other task is a candidate, so unrelated pairs outnumber
    # related ones ~100 to 1. Pair precision/recall over all (query, task) pairs.
    dense = vectors[queries] @ vectors.T
    dense[np.arange(len(queries)), queries] = -np.inf
    related = np.zeros(dense.shape, dtype=bool)
    for row, rel in enumerate(siblings):
        related[row, list(rel)] = True
    total_related = int(related.sum())
    grid = np.arange(0.30, 0.90, 0.005)
    realistic = []
    for t in grid:
        above = dense >= t
        tp = int((above & related).sum())
        fp = int(above.sum()) - tp
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / total_related
        realistic.append((2 * p * r / (p + r) if p + r else 0.0, float(t), p, r))
    best_real = max(realistic)

    def realistic_at(t: float) -> tuple[float, float]:
        row = min(realistic, key=lambda x: abs(x[1] - t))
        return row[2], row[3]

    print(
        f"\nCalibration, match-run setting (each query against all other tasks; {total_related / related.size:.2%} of pairs related):\n"
    )
    print(
        "| threshold | pair precision | pair recall (DWA siblings) | recall (revision pairs) | balanced-set precision / recall |"
    )
    print("|---|---|---|---|---|")
    candidates = [
        (best_real[1], f"**{best_real[1]:.3f}** (best F1 {best_real[0]:.3f})"),
        (HUB_THRESHOLD, f"{HUB_THRESHOLD} (hub tool)"),
        (services.DEFAULT_THRESHOLD, f"{services.DEFAULT_THRESHOLD} (product default)"),
        (threshold, f"{threshold:.3f} (best F1 on the balanced set)"),
    ]
    for t, label in candidates:
        p, r = realistic_at(t)
        bp, br = at(pos, neg, t)
        print(f"| {label} | {p:.3f} | {r:.3f} | {np.mean(revision_cosines >= t):.3f} | {bp:.3f} / {br:.3f} |")
    print(
        f"\nCosine of the pairs: siblings median {np.median(pos):.3f}, unrelated median {np.median(neg):.3f}, "
        f"revision pairs min {revision_cosines.min():.3f} / median {np.median(revision_cosines):.3f}."
    )
    second_stage(data, texts, vectors, revised, revisions, queries, siblings)
    library_accent(texts, vectors, occupation, revised, revisions, queries, siblings)


def second_stage(data, texts, vectors, revised, revisions, queries, siblings) -> None:
    import ranking_candidates as rc

    from matching import ranking

    shared = Path(settings.SHARED_DATA_DIR)
    version = rc.ifate_version(shared)
    ctx = rc.ifate_context(version, background=vectors)
    # O*NET: the occupation ("title. description") is a task's context, its hubness among all tasks.
    occupations = {
        r["O*NET-SOC Code"]: f"{r['Title']}. {r['Description']}"[:600] for r in read(data / "Occupation Data.txt")
    }
    codes = [r["O*NET-SOC Code"] for r in read(data / "Task Statements.txt")]
    titles = sorted(set(codes))
    title_vectors = embeddings.encode([occupations.get(c, c) for c in titles])
    position = {c: i for i, c in enumerate(titles)}
    title_of = np.array([position[c] for c in codes])
    task_context = title_vectors[title_of]
    hub = ranking.hubness(vectors)
    lexical = rc.LexicalIndex(texts)
    q = vectors[queries]
    # the product's second stage over the tasks, each with its occupation as context
    cands = ranking.Candidates(vectors=vectors, hub=hub, context=task_context)
    sib = rc.Problem(
        "siblings",
        queries=q,
        cands=cands,
        cos=q @ vectors.T,
        column_hub=hub,
        row_hub=ranking.hubness(q, vectors),
        lexical=lexical.scores([texts[i] for i in queries]),
        contexts={"title": q @ task_context.T},
        exclude=np.asarray(queries),
    )
    rev = rc.Problem(
        "revisions",
        queries=revised,
        cands=cands,
        cos=revised @ vectors.T,
        column_hub=hub,
        row_hub=ranking.hubness(revised, vectors),
        lexical=lexical.scores([t for t, _ in revisions]),
        contexts={"title": revised @ task_context.T},
    )
    # An original task's text can repeat in other occupations (identical vectors, tied scores): any
    # copy of it is the original.
    same_text: dict[str, set[int]] = defaultdict(set)
    for i, text in enumerate(texts):
        same_text[embeddings.normalise(text)].add(i)
    rev_relevant = [same_text[embeddings.normalise(texts[target])] for _, target in revisions]
    rc.evaluate((sib, siblings, rev, rev_relevant), ctx, shared)

    # Calibration (matching/calibration.py) as calibrate_matching computes it: the labelled set's
    # best matches under the adopted ranking, and every educator review in this database.
    from matching import calibration

    record = calibration.recompute("ifate")
    cal = calibration.Calibration(record)
    sources = ", ".join(f"{v} {k}" for k, v in record.sources.items())
    print(f"\nCalibration of IfATE matching ({len(record.pairs)} pairs: {sources}):\n")
    print("| score band | best matches right | estimated precision | shown as |")
    print("|---|---|---|---|")
    for band in cal.bands:
        shown = cal.confidence((band.low + band.high) / 2)
        print(
            f"| {band.low:.2f}–{band.high:.2f} | {band.right} of {band.pairs} | {band.precision:.2f} | {shown.label if shown else '—'} |"
        )
    print("\n| threshold | precision | recall |")
    print("|---|---|---|")
    for t in (0.45, 0.50, 0.55, 0.56, 0.60, 0.65):
        p, r = cal.at_threshold(t)
        print(f"| {t:.2f} | {p:.3f} | {r:.3f} |")


ACCENT_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def library_accent(texts, vectors, occupation, revised, revisions, queries, siblings) -> None:
    """§6: library search inside a cycle whose statements share a domain word, each discount side
    by side; then the library measures the discount must not harm (module docstring)."""
    import json
    import re
    import statistics
    import time

    from cycles.models import Cycle
    from matching import library
    from matching.corpora import latest_version
    from matching.importers import import_framework
    from workshops.models import Capability

    shared = Path(settings.SHARED_DATA_DIR)
    for kind in ("onet", "esco"):
        if import_framework(kind, str(shared / kind)).created:
            print(f"(imported {latest_version(kind)})", flush=True)
        version = latest_version(kind)
        if version.embedded_at is None:
            print(
                f"(embedded {version}: {services.framework_version_embed(version=version):,} texts, once)", flush=True
            )
    fixture = json.loads((ROOT / "tests" / "matching" / "data" / "library_cycle_accent.json").read_text())
    Cycle.objects.filter(slug__startswith="bench-accent-").delete()
    cycles = {}
    for name, spec in fixture["cycles"].items():
        cycle = Cycle.objects.create(slug=f"bench-accent-{name}", title=f"Accent bench: {name}", challenge="bench")
        Capability.objects.bulk_create(
            Capability(cycle=cycle, ref=f"C{i + 1:02d}", statement=text, status=Capability.Status.ACCEPTED)
            for i, text in enumerate(spec["statements"])
        )
        cycles[name] = (cycle, set(spec["accent"]))
    library.forget()
    embeddings.get_model()  # every vector may be stored already: a search needs the model itself
    adopted, centred_adopted = library.ACCENT_DISCOUNT, library.ACCENT_CENTRED
    cases = fixture["cases"]
    words = lambda text: set(re.findall(r"[a-z]+", text.lower()))  # noqa: E731
    try:
        for case in cases:  # warm: the model, the matrices, every statement's vector in the store
            library.library_search(cycles[case["cycle"]][0], case["statement"], 10)
        print(
            f"\nLibrary search inside a cycle with an accent — {len(cases)} cases in {len(cycles)} cycles "
            f"(tests/matching/data/library_cycle_accent.json), load average {os.getloadavg()[0]:.1f}\n"
        )
        print("| discount | @1 | @5 | MRR@10 | top-5 hits carrying the cycle's word | median ms per search |")
        print("|---|---|---|---|---|---|")
        for weight, centred in [(w, False) for w in ACCENT_WEIGHTS] + [(w, True) for w in ACCENT_WEIGHTS[1:]]:
            library.ACCENT_DISCOUNT, library.ACCENT_CENTRED = weight, centred
            ranks, accented, shown, took = [], 0, 0, []
            for case in cases:
                cycle, accent = cycles[case["cycle"]]
                hits, ms = library.library_search(cycle, case["statement"], 10)
                took.append(ms)
                expected = {e.strip().lower() for e in case["expected"]}
                names = [h.text.strip().lower() for h in hits]
                ranks.append(next((i + 1 for i, n in enumerate(names) if n in expected), 1000))
                accented += sum(1 for n in names[:5] if words(n) & accent)
                shown += len(names[:5])
            r = np.array(ranks)
            mark = (", beyond the library's mean" if centred else "") + (
                " (adopted)" if weight == adopted and (centred == centred_adopted or not weight) else ""
            )
            print(
                f"| {weight}{mark} | {np.mean(r <= 1):.0%} | {np.mean(r <= 5):.0%} | "
                f"{np.mean(np.where(r <= 10, 1.0 / r, 0.0)):.3f} | {accented}/{shown} ({accented / max(shown, 1):.0%}) "
                f"| {statistics.median(took):.1f} |"
            )
        # What the discount (at 0.5) adds to a search: the cycle's context (one aggregate query, its
        # vectors cached) and the vector arithmetic, timed alone.
        library.ACCENT_DISCOUNT, library.ACCENT_CENTRED = adopted, centred_adopted
        step = []
        for _ in range(5):
            for case in cases:
                vector = embeddings.encode([case["statement"]])[0]
                started = time.perf_counter()
                library.without_cycle_accent(cycles[case["cycle"]][0], case["statement"], vector, 0.5)
                step.append((time.perf_counter() - started) * 1000)
        step.sort()
        print(
            f"\nThe accent step alone (context lookup + discount): median {statistics.median(step):.2f} ms, "
            f"p95 {step[int(len(step) * 0.95) - 1]:.2f} ms over {len(step)} calls."
        )
        _library_unharmed(texts, vectors, occupation, revised, revisions, queries, siblings)
    finally:
        library.ACCENT_DISCOUNT, library.ACCENT_CENTRED = adopted, centred_adopted
        Cycle.objects.filter(slug__startswith="bench-accent-").delete()
        library.forget()


def _library_unharmed(texts, vectors, occupation, revised, revisions, queries, siblings) -> None:
    """DWA siblings and revision pairs through the library's ranking (O*NET tasks + ESCO skills, hub
    term; the query's own text never counts), inside a mixed cycle (20 other queries of the set) and
    inside the occupation as the cycle (its other tasks; the revision's original and its copies
    left out), without and with the discount."""
    from matching import library, ranking

    _, items = library.reference_matrix()
    cands = library.reference_ranking()
    item_text = [embeddings.normalise(item.text) for _, item in items]
    norm = [embeddings.normalise(t) for t in texts]
    rng = np.random.default_rng(1)
    by_occupation: dict[int, list[int]] = defaultdict(list)
    for i, code in enumerate(occupation):
        by_occupation[int(code)].append(i)

    def ranks(query_vectors, own: list[str], relevant: list[set[str]]) -> np.ndarray:
        top, _ = ranking.search(query_vectors, cands, 30)
        out = np.full(len(own), 1000)
        for row, idx in enumerate(top):
            rank = 0
            for j in idx:
                if item_text[j] == own[row]:
                    continue
                rank += 1
                if item_text[j] in relevant[row]:
                    out[row] = rank
                    break
        return out

    sib_own = [norm[i] for i in queries]
    sib_rel = [{norm[j] for j in rel} - {norm[i]} for i, rel in zip(queries, siblings, strict=True)]
    rev_own = [embeddings.normalise(t) for t, _ in revisions]
    rev_rel = [{norm[target]} for _, target in revisions]
    sets = {
        "DWA siblings": (vectors[queries], sib_own, sib_rel, [int(occupation[i]) for i in queries], list(queries)),
        "revisions": (revised, rev_own, rev_rel, [int(occupation[t]) for _, t in revisions], [t for _, t in revisions]),
    }
    print("\nThe library measures the discount must not harm (library ranking: O*NET tasks + ESCO skills, hub term):\n")
    print("| set | cycle (context) | discount | R@1 | R@5 | R@10 | MRR (first 30) |")
    print("|---|---|---|---|---|---|---|")
    notes = []
    for name, (qv, own, rel, occ, origin) in sets.items():
        mixed = []
        for row in range(len(qv)):
            others = rng.choice(len(qv) - 1, size=min(20, len(qv) - 1), replace=False)
            mixed.append(qv[others + (others >= row)])
        occupations = []
        for row in range(len(qv)):
            left_out = rel[row] | {own[row]}
            occupations.append(
                vectors[[j for j in by_occupation[occ[row]] if j != origin[row] and norm[j] not in left_out]]
            )
        for label, ctx in (("mixed (20 other queries)", mixed), ("its occupation's other tasks", occupations)):
            centre_of_library = library.reference_centre()
            for weight, centre in ((0.0, None), (0.5, None), (0.25, centre_of_library), (0.5, centre_of_library)):
                moved = np.vstack([ranking.without_accent(qv[row], ctx[row], weight, centre) for row in range(len(qv))])
                r = ranks(moved, own, rel)
                print(
                    f"| {name} | {label} | {weight}{', beyond the library mean' if centre is not None else ''} "
                    f"| {np.mean(r <= 1):.3f} | {np.mean(r <= 5):.3f} | {np.mean(r <= 10):.3f} "
                    f"| {np.mean(np.where(r <= 30, 1.0 / r, 0.0)):.3f} |"
                )
            enough = sum(len(c) >= ranking.ACCENT_MIN_CONTEXT for c in ctx)
            notes.append(
                f"{name}, {label}: {enough}/{len(ctx)} queries with a context of ≥ {ranking.ACCENT_MIN_CONTEXT}"
            )
    print("\n" + "; ".join(notes) + ".")


if __name__ == "__main__":
    main()

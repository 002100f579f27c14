"""KSB tag suggestion quality on the real ESCO data.

For each case in tests/workshops/tags/ksb_expected.json (a capability statement, a tag kind and the ESCO
concepts a person would expect), ask for suggestions and check whether an expected concept is in
the top k. Prints the hit rate at k = 1, 3, 5, 10 overall and per kind, the mean reciprocal rank,
and the misses with what came first instead.

ESCO is imported from SHARED_DATA_DIR (default ../shared/data) into the bench's own SQLite
database, kept between runs, so the first run also embeds the ~14k concept labels once.

    python bench/ksb_suggestions.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SQLITE_PATH", str(ROOT / "var" / "bench-ksb.sqlite3"))


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    (ROOT / "var").mkdir(exist_ok=True)
    call_command("migrate", verbosity=0)
    from django.conf import settings

    from matching.importers import import_framework
    from matching.suggestions import esco_corpus, suggest_tags

    # Suggestions come from the imported ESCO (a no-op when this database already has it).
    outcome = import_framework("esco", str(Path(settings.SHARED_DATA_DIR) / "esco"))
    if outcome.created:
        print(f"(imported {outcome.version})")
    cases = json.loads((ROOT / "tests" / "workshops" / "tags" / "ksb_expected.json").read_text())["cases"]
    started = time.perf_counter()
    for kind in "KSB":
        esco_corpus(kind)
    corpus_s = time.perf_counter() - started
    from matching.embeddings import get_model

    get_model()  # the corpora may all be stored already: suggestions need the model itself
    suggest_tags("Warm up the model.", "K", [], 1)
    ks = (1, 3, 5, 10)
    hits = {k: 0 for k in ks}
    by_kind: dict[str, dict[int, int]] = {}
    counts: dict[str, int] = {}
    rr = 0.0
    misses = []
    started = time.perf_counter()
    for case in cases:
        names, rank = _ranked(suggest_tags(case["statement"], case["kind"], [], max(ks)), case)
        rr += 1.0 / rank if rank else 0.0
        counts[case["kind"]] = counts.get(case["kind"], 0) + 1
        for k in ks:
            ok = rank is not None and rank <= k
            hits[k] += ok
            by_kind.setdefault(case["kind"], {kk: 0 for kk in ks})[k] += ok
        if rank is None or rank > 5:
            misses.append((case, names[:3], rank))
    query_ms = (time.perf_counter() - started) * 1000 / len(cases)
    n = len(cases)
    print(f"KSB suggestions on ESCO v1.1.1 — {n} cases ({', '.join(f'{k}: {v}' for k, v in counts.items())})")
    print("  hit rate  " + "  ".join(f"@{k}: {hits[k] / n:.0%} ({hits[k]}/{n})" for k in ks))
    for kind, row in by_kind.items():
        print(f"  kind {kind}    " + "  ".join(f"@{k}: {row[k] / counts[kind]:.0%}" for k in ks))
    print(f"  MRR@10: {rr / n:.3f}")
    print(
        f"  corpora ready in {corpus_s:.1f} s (the first run embeds them once); {query_ms:.0f} ms per suggestion list"
    )
    for case, top, rank in misses:
        print(
            f"  miss ({case['kind']}, rank {rank or '>10'}): {case['statement'][:70]}… expected {case['expected'][0]!r}, got {top}"
        )
    cycle_accent()


def _ranked(got: list[dict], case: dict) -> tuple[list[str], int | None]:
    """The suggested names, and the rank of the first expected one (None: not among them)."""
    names = [s["name"].strip().lower() for s in got]
    expected = {e.strip().lower() for e in case["expected"]}
    return names, next((i + 1 for i, n in enumerate(names) if n in expected), None)


def _scores(ranks: list[int | None]) -> tuple[float, float, float]:
    """@1, @5 and MRR@10 over the cases' ranks."""
    n = len(ranks)
    return (
        sum(r == 1 for r in ranks) / n,
        sum(r is not None and r <= 5 for r in ranks) / n,
        sum(1.0 / r for r in ranks if r) / n,
    )


def cycle_accent() -> None:
    """Suggestions inside a cycle whose statements share a domain word (issue 14, part 7): each
    discount of the cycle's accent side by side, from none (plain suggestions) up."""
    from matching import ranking, suggestions

    data = json.loads((ROOT / "tests" / "workshops" / "tags" / "ksb_cycle_accent.json").read_text())
    cases, cycles = data["cases"], data["cycles"]
    print(f"\nCycle accent — {len(cases)} cases in {len(cycles)} cycles (tests/workshops/tags/ksb_cycle_accent.json)")
    print("  discount   @1     @5     MRR@10  top-5 suggestions carrying the cycle's accent word")
    adopted = ranking.ACCENT_DISCOUNT
    try:
        for weight in (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0):
            ranking.ACCENT_DISCOUNT = weight
            ranks, accented, shown = [], 0, 0
            for case in cases:
                cycle = cycles[case["cycle"]]
                got = suggestions.suggest_tags(case["statement"], case["kind"], [], 10, context=cycle["statements"])
                names, rank = _ranked(got, case)
                ranks.append(rank)
                words = [set(n.replace("-", " ").split()) for n in names[:5]]
                accented += sum(1 for w in words if w & set(cycle["accent"]))
                shown += len(words)
            at1, at5, mrr = _scores(ranks)
            mark = "  (adopted)" if weight == adopted else ""
            print(
                f"  {weight:<8}   {at1:>4.0%}   {at5:>4.0%}   {mrr:.3f}   "
                f"{accented}/{shown} ({accented / max(shown, 1):.0%}){mark}"
            )
        # The expected-tag cases above, all inside one "cycle" of their statements (of several
        # domains, so little accent): the discount should not cost them.
        plain = json.loads((ROOT / "tests" / "workshops" / "tags" / "ksb_expected.json").read_text())["cases"]
        statements = sorted({c["statement"] for c in plain})
        for weight in (0.0, 0.25, 0.4, 0.5):
            ranking.ACCENT_DISCOUNT = weight
            ranks = [
                _ranked(suggestions.suggest_tags(c["statement"], c["kind"], [], 10, context=statements), c)[1]
                for c in plain
            ]
            at1, at5, mrr = _scores(ranks)
            print(
                f"  expected-tag cases in a mixed cycle, discount {weight}: @1 {at1:.0%}  @5 {at5:.0%}  MRR@10 {mrr:.3f}"
            )
    finally:
        ranking.ACCENT_DISCOUNT = adopted


if __name__ == "__main__":
    main()

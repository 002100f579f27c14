"""Aggregate a round of 1,000 items × 50 panellists and print how long it takes (target < 2 s).

Runs against a throw-away SQLite file by default, or the database in DATABASE_URL (tables are
created by migrate; the bench cycle is removed afterwards). Usage:

    .venv/bin/python bench/delphi_aggregate.py [--items 1000] [--panellists 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--panellists", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    import numpy as np
    from django.db import connection

    from accounts.models import Organisation, User
    from cycles.models import Cycle, Membership, RoleLevel
    from workshops.delphi.aggregation import round_aggregate
    from workshops.models import Capability, DelphiItem, DelphiPlan, Round, Vote

    levels_n = 4
    caps_n = -(-args.items // levels_n)
    slug = f"bench-aggregate-{os.getpid()}"
    cycle = Cycle.objects.create(slug=slug, title="Aggregation benchmark", challenge="Benchmark")
    try:
        DelphiPlan.objects.create(cycle=cycle, voting_roles=["technologist"], max_rounds=3)
        orgs = [
            Organisation.objects.get_or_create(name=f"Bench org {g}", defaults={"group": g})[0]
            for g in ("technology", "industry", "skills")
        ]
        users = User.objects.bulk_create(
            [
                User(email=f"bench-{os.getpid()}-{n}@bench.test", organisation=orgs[n % 3])
                for n in range(args.panellists)
            ]
        )
        if connection.vendor == "sqlite" or not users[0].pk:
            users = list(User.objects.filter(email__startswith=f"bench-{os.getpid()}-").order_by("pk"))
        Membership.objects.bulk_create([Membership(cycle=cycle, user=u, role="technologist") for u in users])
        levels = [RoleLevel.objects.create(cycle=cycle, name=f"Level {n}", order=n) for n in range(levels_n)]
        caps = Capability.objects.bulk_create(
            [
                Capability(cycle=cycle, ref=f"B{n:04d}", statement=f"Do thing {n}.", status="accepted")
                for n in range(caps_n)
            ]
        )
        caps = list(Capability.objects.filter(cycle=cycle).order_by("pk"))
        DelphiItem.objects.bulk_create(
            [DelphiItem(cycle=cycle, capability=c, role_level=lv) for c in caps for lv in levels][: args.items]
        )
        items = list(DelphiItem.objects.filter(cycle=cycle).order_by("pk"))
        rounds = []
        rng = np.random.default_rng(1)
        for number in (1, 2):
            rnd = Round.objects.create(cycle=cycle, number=number, status="closed")
            rnd.items.set(items)
            truth = rng.integers(0, 4, size=len(items))
            values = np.clip(truth[:, None] + rng.integers(-1, 2, size=(len(items), len(users))), 0, 3)
            Vote.objects.bulk_create(
                [
                    Vote(round=rnd, item=item, panellist=user, value=int(values[i, j]))
                    for i, item in enumerate(items)
                    for j, user in enumerate(users)
                ],
                batch_size=5000,
            )
            rounds.append(rnd)
        votes = Vote.objects.filter(round=rounds[1]).count()
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            if os.environ.get("PROFILE"):
                import cProfile

                cProfile.runctx("round_aggregate(round_id=rounds[1].pk)", globals(), locals(), sort="cumtime")
            summary = round_aggregate(round_id=rounds[1].pk)
            timings.append(time.perf_counter() - start)
        print(f"database: {connection.vendor}")
        print(
            f"round of {len(items)} items x {len(users)} panellists = {votes} votes (second round, with change vs the first)"
        )
        print(
            f"aggregate (read votes, statistics, upsert results, outcomes, summary): "
            f"best {min(timings):.3f} s, median {sorted(timings)[len(timings) // 2]:.3f} s over {args.repeat} runs"
        )
        print(
            f"items reached {summary['items_reached']}, stable {summary['items_stable']}, carried {summary['items_carried']}"
        )
        print("target < 2 s:", "met" if min(timings) < 2 else "NOT met")
    finally:
        User.objects.filter(email__startswith=f"bench-{os.getpid()}-").delete()
        cycle.delete()


if __name__ == "__main__":
    main()

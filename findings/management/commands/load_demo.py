"""Load the demo: the two published cycles and everything each app builds on them.

It lives in the top app of the dependency chain (accounts ← cycles ← workshops ← matching ←
findings) so it may call every app's ``demo.load``. Running it again duplicates nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Each step is an app's demo module; each ``load(data_dir, stdout)`` is idempotent.
STEPS = ["cycles.demo", "workshops.demo", "matching.demo", "findings.demo"]


class Command(BaseCommand):
    help = "Load the two published demo cycles and the demo users from ../shared/data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", default=str(settings.SHARED_DATA_DIR), help="Folder of the shared data.")
        parser.add_argument(
            "--skip-frameworks",
            action="store_true",
            help="Do not import and embed the reference frameworks (faster; matching pages stay empty).",
        )

    def handle(self, *args, data_dir: str, skip_frameworks: bool, **options):
        root = Path(data_dir)
        if not (root / "seed_cycles").is_dir():
            raise CommandError(f"No seed_cycles folder in {root}: set --data-dir or SHARED_DATA_DIR.")
        for step in STEPS:
            try:
                module = importlib.import_module(step)
            except ModuleNotFoundError:
                continue
            if step == "matching.demo" and skip_frameworks:
                continue
            self.stdout.write(f"Loading {step} …")
            module.load(root, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo loaded."))

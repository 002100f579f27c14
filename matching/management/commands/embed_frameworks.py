"""python manage.py embed_frameworks [ifate onet esco]"""

import time

from django.core.management.base import BaseCommand, CommandError

from matching import services
from matching.corpora import latest_version


class Command(BaseCommand):
    help = (
        "Embed every statement and standard (title and overview) of the latest version of each framework (default: all "
        "imported), and the texts of its corpora (FOP naming, KSB suggestions). Texts already in the store "
        "are skipped, so running it again is instant."
    )

    def add_arguments(self, parser):
        parser.add_argument("kinds", nargs="*", help="ifate, onet and/or esco (default: all three).")

    def handle(self, *args, kinds: list[str], **options):
        unknown = sorted(set(kinds) - {"ifate", "onet", "esco"})
        if unknown:
            raise CommandError(f"Unknown framework {', '.join(unknown)}: use ifate, onet or esco.")
        for kind in kinds:
            if latest_version(kind) is None:
                raise CommandError(f"No {kind} framework is imported.")
        for kind in kinds or ["ifate", "onet", "esco"]:
            started = time.perf_counter()

            def progress(version: str, done: int, total: int) -> None:
                self.stdout.write(f"  {version}: {done:,}/{total:,} texts encoded")

            for version, encoded in services.frameworks_embed(kinds=[kind], progress=progress).items():
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{version}: {encoded:,} texts encoded in {time.perf_counter() - started:.1f} s."
                    )
                )

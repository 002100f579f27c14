"""python manage.py embed_frameworks [ifate onet esco]"""

import time

from django.core.management.base import BaseCommand, CommandError

from matching import embeddings, services
from matching.corpora import latest_version


class Command(BaseCommand):
    help = (
        "Embed every statement and standard title of the latest version of each framework (default: all "
        "imported), and the texts of its corpora (FOP naming, KSB suggestions). Texts already in the store "
        "are skipped, so running it again is instant."
    )

    def add_arguments(self, parser):
        parser.add_argument("kinds", nargs="*", help="ifate, onet and/or esco (default: all three).")

    def handle(self, *args, kinds: list[str], **options):
        unknown = sorted(set(kinds) - {"ifate", "onet", "esco"})
        if unknown:
            raise CommandError(f"Unknown framework {', '.join(unknown)}: use ifate, onet or esco.")
        for kind in kinds or ["ifate", "onet", "esco"]:
            version = latest_version(kind)
            if version is None:
                if kinds:
                    raise CommandError(f"No {kind} framework is imported.")
                continue
            started = time.perf_counter()

            def progress(done: int, total: int, version=version) -> None:
                self.stdout.write(f"  {version}: {done:,}/{total:,} texts encoded")

            encoded = services.framework_version_embed(version=version, progress=progress)
            # The corpora built from this framework (e.g. occupations embedded with their
            # descriptions for FOP names) may hold texts that are not statements or titles.
            before = embeddings.STATS.encoded
            for key in embeddings.corpus_keys():
                if key.split(":", 1)[0] == kind:
                    embeddings.get_corpus(key, progress)
            encoded += embeddings.STATS.encoded - before
            self.stdout.write(
                self.style.SUCCESS(f"{version}: {encoded:,} texts encoded in {time.perf_counter() - started:.1f} s.")
            )

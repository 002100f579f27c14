"""python manage.py import_framework ifate|onet|esco SOURCE [--label LABEL]"""

from django.core.management.base import BaseCommand, CommandError

from matching.importers import FrameworkImportError, import_framework


class Command(BaseCommand):
    help = (
        "Import a reference framework as a new version (all or nothing; re-importing the same source changes "
        "nothing). ifate FILE_OR_URL: the Skills England/IfATE standards JSON; onet DIR: the O*NET text release "
        "folder; esco DIR_OR_ZIP: the official ESCO CSV zips."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["ifate", "onet", "esco"])
        parser.add_argument("source")
        parser.add_argument("--label", help="Version label (default: taken from the source).")

    def handle(self, *args, kind: str, source: str, label: str | None, **options):
        try:
            outcome = import_framework(kind, source, label=label)
        except FrameworkImportError as exc:
            raise CommandError(f"Nothing was imported. {exc}") from exc
        for note in outcome.notes:
            self.stdout.write(note)
        self.stdout.write(self.style.SUCCESS(outcome.message) if outcome.created else outcome.message)

from django.core.management.base import BaseCommand

from workshops.capture.taxonomy import DEFAULT_TAXONOMY_CSV, taxonomy_load_default


class Command(BaseCommand):
    help = f"Load the default classification taxonomy ({DEFAULT_TAXONOMY_CSV.name}); running it again changes nothing."

    def handle(self, *args, **options):
        result = taxonomy_load_default()
        self.stdout.write(self.style.SUCCESS(result.summary()))

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workshops.capture.taxonomy import TaxonomyImportError, taxonomy_export_csv, taxonomy_import


class Command(BaseCommand):
    help = (
        "Import or export the classification taxonomy as CSV (columns function, function_description, domain, area). "
        "An import adds what is missing and is all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "export"])
        parser.add_argument("file", help="CSV file to read, or to write ('-' writes to standard output).")

    def handle(self, *args, action: str, file: str, **options):
        if action == "export":
            text = taxonomy_export_csv()
            if file == "-":
                self.stdout.write(text, ending="")
            else:
                Path(file).write_text(text, encoding="utf-8")
                self.stdout.write(self.style.SUCCESS(f"Taxonomy written to {file}."))
            return
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            result = taxonomy_import(data=path.read_bytes())
        except TaxonomyImportError as exc:
            raise CommandError("Nothing was imported:\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(self.style.SUCCESS(result.summary()))

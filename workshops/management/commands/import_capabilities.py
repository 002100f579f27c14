from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cycles.commands import cycle_or_command_error
from workshops import realtime
from workshops.capture.services import CapabilityImportError, capabilities_import


class Command(BaseCommand):
    help = (
        "Import capability statements into a cycle from CSV (columns statement, partners separated by ';', "
        "function, domain, area, optional ref). All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("cycle", help="Slug of the cycle.")
        parser.add_argument("file")
        parser.add_argument("--submitted", action="store_true", help="Leave them submitted instead of accepted.")

    # Open screens hear of what it changes through the outbox (workshops/realtime.py).
    @realtime.broadcasting_from_a_command()
    def handle(self, *args, cycle: str, file: str, submitted: bool, **options):
        target = cycle_or_command_error(cycle)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            created = capabilities_import(cycle=target, actor=None, data=path.read_bytes(), accept=not submitted)
        except CapabilityImportError as exc:
            raise CommandError("Nothing was imported:\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(self.style.SUCCESS(f"{len(created)} capability statements imported into {cycle}."))

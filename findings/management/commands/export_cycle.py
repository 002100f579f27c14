"""Write a cycle and everything in it to a JSON file (a backup, or a move to another installation)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cycles.commands import cycle_or_command_error
from findings.portability import PortabilityError, cycle_export, dumps


class Command(BaseCommand):
    help = "Export a cycle (plan, members, capabilities, rounds, votes, results, FOPs, tags, match runs, actions...) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The cycle's slug.")
        parser.add_argument("file", help="Where to write the JSON ('-' for standard output).")

    def handle(self, *args, slug: str, file: str, **options):
        cycle = cycle_or_command_error(slug)
        try:
            text = dumps(cycle_export(cycle=cycle))
        except PortabilityError as exc:
            raise CommandError(str(exc)) from exc
        if file == "-":
            sys.stdout.write(text)
            return
        Path(file).write_text(text, encoding="utf-8")
        self.stderr.write(self.style.SUCCESS(f"Exported cycle '{slug}' to {file}."))

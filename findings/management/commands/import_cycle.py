"""Restore a cycle written by export_cycle. All or nothing: a problem leaves the database unchanged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from findings.portability import PortabilityError, cycle_import


class Command(BaseCommand):
    help = (
        "Import a cycle exported by export_cycle (users without a password, organisations and taxonomy by natural key)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON file ('-' for standard input).")

    def handle(self, *args, file: str, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from exc
        try:
            cycle = cycle_import(data=data)
        except PortabilityError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Imported cycle '{cycle.slug}' ({cycle.title})."))

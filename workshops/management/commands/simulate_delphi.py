"""Drive a full multi-round Delphi with simulated panellists through the real services."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cycles.commands import cycle_or_command_error
from workshops import realtime
from workshops.delphi.services import DelphiError
from workshops.delphi.simulation import delphi_simulate


class Command(BaseCommand):
    help = "Simulate a Delphi panel on a cycle's accepted capabilities (deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument("cycle_slug")
        parser.add_argument("--panellists", type=int, default=24)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--reset", action="store_true", help="Delete the cycle's existing rounds, votes and results first."
        )

    # Open screens hear of what it changes through the outbox (workshops/realtime.py).
    @realtime.broadcasting_from_a_command()
    def handle(self, *args, cycle_slug: str, panellists: int, rounds: int, seed: int, reset: bool, **options):
        if panellists < 1 or rounds < 1:
            raise CommandError("--panellists and --rounds must be at least 1.")
        cycle = cycle_or_command_error(cycle_slug)
        try:
            report = delphi_simulate(
                cycle=cycle, panellists=panellists, rounds=rounds, seed=seed, reset=reset, log=self.stdout.write
            )
        except DelphiError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(f"Simulated {len(report.rounds)} rounds with {report.panellists} panellists.")
        )

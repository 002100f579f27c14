"""Close Delphi rounds whose deadline has passed (run it from cron, or schedule the Celery task)."""

from django.core.management.base import BaseCommand

from workshops import realtime
from workshops.delphi.services import rounds_close_due


class Command(BaseCommand):
    help = "Close every open Delphi round past its deadline and aggregate it."

    # Open screens hear of what it changes through the outbox (workshops/realtime.py).
    @realtime.broadcasting_from_a_command()
    def handle(self, *args, **options):
        closed = rounds_close_due()
        self.stdout.write(f"Closed {len(closed)} round(s) past their deadline.")

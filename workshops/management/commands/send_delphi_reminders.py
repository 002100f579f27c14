"""Send the Delphi reminders that are due (run it from cron, or let Celery beat run the task)."""

from django.core.management.base import BaseCommand

from workshops.delphi.reminders import reminders_send_due


class Command(BaseCommand):
    help = "Email every Delphi reminder that is due; each is sent at most once, however often this runs."

    def handle(self, *args, **options):
        sent = reminders_send_due()
        self.stdout.write(f"Sent {sent} reminder(s).")

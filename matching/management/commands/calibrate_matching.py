"""python manage.py calibrate_matching [ifate onet esco] [--labelled FILE | --no-labelled]"""

from pathlib import Path

from django.core.management.base import BaseCommand

from matching import calibration


class Command(BaseCommand):
    help = (
        "Recompute each framework's calibration (score → estimated precision) from the hand-labelled "
        "set (IfATE) and the educators' confirmed and rejected match reviews."
    )

    def add_arguments(self, parser):
        parser.add_argument("kinds", nargs="*", default=["ifate", "onet", "esco"])
        parser.add_argument("--labelled", default=str(calibration.LABELLED_SET))
        parser.add_argument("--no-labelled", action="store_true", help="reviews only")

    def handle(self, *args, kinds, labelled, no_labelled, **options):
        for kind in kinds:
            record = calibration.recompute(kind, labelled=None if no_labelled else Path(labelled))
            if record is None:
                self.stdout.write(f"{kind}: not imported, skipped.")
                continue
            cal = calibration.Calibration(record)
            sources = ", ".join(f"{v} {k}" for k, v in record.sources.items())
            self.stdout.write(f"{kind}: {len(record.pairs)} labelled pairs ({sources}).")
            for band in cal.bands:
                self.stdout.write(
                    f"  {band.low:.2f}–{band.high:.2f}: {band.right}/{band.pairs} right → est. precision {band.precision:.2f}"
                )
            if not cal:
                self.stdout.write(f"  fewer than {calibration.MIN_PAIRS} pairs: no estimate is shown.")

"""python manage.py propose_fops <cycle-slug> [--max-size N] [--min-size N] [--similarity S]"""

from django.core.management.base import BaseCommand, CommandError

from cycles.commands import cycle_or_command_error
from workshops import realtime
from workshops.fops.proposals import ProposalError, clean_parameters, fop_propose
from workshops.fops.types import ProposalParameters


class Command(BaseCommand):
    help = "Propose FOPs from the consensus proficiencies (replaces earlier untouched proposals only)."

    def add_arguments(self, parser):
        defaults = ProposalParameters()
        parser.add_argument("cycle", help="Slug of the cycle.")
        parser.add_argument("--max-size", type=int, default=defaults.max_size, help="Most capabilities per profile.")
        parser.add_argument("--min-size", type=int, default=defaults.min_size, help="Smallest profile before joining.")
        parser.add_argument("--similarity", type=float, default=defaults.similarity, help="Merge threshold, 0–1.")

    # Open screens hear of what it changes through the outbox (workshops/realtime.py).
    @realtime.broadcasting_from_a_command()
    def handle(self, *args, cycle: str, max_size: int, min_size: int, similarity: float, **options):
        target = cycle_or_command_error(cycle)
        try:
            params = clean_parameters(max_size=max_size, min_size=min_size, similarity=similarity)
            run = fop_propose(cycle=target, actor=None, parameters=params)
        except ProposalError as exc:
            raise CommandError(str(exc)) from exc
        s = run.summary
        self.stdout.write(
            f"Run {run.pk}: {s['created']} FOPs proposed from {s['needed_items']} needed items in "
            f"{s['role_levels']} role levels ({s['replaced']} earlier proposals replaced, {s['kept']} kept) "
            f"in {s['compute_seconds']} s."
        )
        for fop in run.fops.select_related("role_level").order_by("role_level__order", "id"):
            refs = ", ".join(sorted(fop.entries.values_list("capability__ref", flat=True)))
            level = fop.role_level.name if fop.role_level else "—"
            self.stdout.write(f"  [{level}] {fop.name}: {refs}")

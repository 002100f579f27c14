"""The app's Celery tasks, for Celery's autodiscovery: each lives in its sub-domain's ``tasks.py``."""

from workshops.delphi.tasks import aggregate_round, close_due_rounds, send_delphi_reminders
from workshops.fops.tasks import propose_fops

__all__ = ["aggregate_round", "close_due_rounds", "propose_fops", "send_delphi_reminders"]

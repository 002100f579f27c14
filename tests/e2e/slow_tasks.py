"""A task that holds a worker's pool slot, for tests that need a busy worker (loaded into a test's
own worker with `celery worker --include tests.e2e.slow_tasks`, never into the app's)."""

import time

from celery import shared_task


@shared_task(name="tests.e2e.hold_the_slot")
def hold_the_slot(seconds: float) -> float:
    time.sleep(seconds)
    return seconds

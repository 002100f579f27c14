""" "Not ready yet": what a page says while the background prepares what it needs.

A request never waits on a model load or a first embedding run. The code that needs one raises
``NotReady`` (with what it waits for and how far the work is); the page shows that in words and
polls, and the worker (or a background thread) does the work. ``partial`` carries what is ready
already (for example suggestions from tags in use while ESCO is still being embedded), so a page
can offer it meanwhile. It lives in core so that any app can raise it and any app can catch it,
whatever the direction of their imports.
"""

from __future__ import annotations


class NotReady(Exception):
    def __init__(self, what: str, *, done: int = 0, total: int = 0, partial=None):
        self.what, self.done, self.total, self.partial = what, done, total, partial
        super().__init__(f"{what}: {self.percent} %")

    @property
    def percent(self) -> int:
        """How far the preparation is, 0–99 (100 would be ready)."""
        return min(99, int(100 * self.done / self.total)) if self.total else 0

"""Registering a function without importing its module at start-up.

Apps register dashboard sources and providers from ``AppConfig.ready()``; importing the modules
that hold them there would load numpy, pandas and the matching code into every ``manage.py``
command, worker and server at start. ``deferred("app.module.function")`` names a function of the
registering app itself and imports it on the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string


def deferred(path: str) -> Callable[..., Any]:
    """A callable that imports ``path`` (``"package.module.function"``) on first use, then calls it."""
    target: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not target:
            target.append(import_string(path))
        return target[0](*args, **kwargs)

    call.__name__ = path.rsplit(".", 1)[-1]
    call.__qualname__ = path
    return call

"""The static-file storage of services mode: WhiteNoise's compressed, content-hashed copies."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Leaves a stylesheet's reference to a file that is not vendored as it is written, instead of
    failing ``collectstatic``: Bootstrap names its source map and Bootstrap Icons its ``.woff``
    fallback beside the vendored ``.woff2``; browsers fetch neither (a source map only with the
    developer tools open, the fallback never), and renaming them would point nowhere anyway."""

    def hashed_name(self, name, content=None, filename=None):
        if content is None and not self.exists(self.clean_name(unquote(urlsplit(name).path).strip())):
            return name
        return super().hashed_name(name, content, filename)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, without its warning about a STATIC_ROOT never collected where none is expected:
    without the manifest (``make run``, the test suite) runserver, and WhiteNoise's finders while
    DEBUG is on, serve the source folders. With the manifest a missing folder is a mistake, and
    WhiteNoise says so."""

    def add_files(self, root, prefix=None):
        if not settings.STATIC_MANIFEST and not Path(root).is_dir():
            return
        super().add_files(root, prefix)

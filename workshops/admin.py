"""Admin registrations, one module per sub-domain (Django's autodiscovery imports this one)."""

from workshops.capture import admin as capture_admin  # noqa: F401
from workshops.delphi import admin as delphi_admin  # noqa: F401
from workshops.fops import admin as fops_admin  # noqa: F401
from workshops.tags import admin as tags_admin  # noqa: F401

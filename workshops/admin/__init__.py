"""Admin registrations, one module per sub-domain."""

from workshops.admin import capture, delphi, fops, tags  # noqa: F401

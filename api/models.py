"""Personal API tokens: a person's key to the read API, acting with their memberships and roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A token is shown once, when it is created; only its SHA-256 digest is kept.

    A token carries no permissions of its own: a request with it acts as its owner, so it reaches
    exactly the cycles and pages its owner's active memberships reach, today (a removed membership
    or a changed role takes effect at once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'Power BI dashboard'.")
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the whole token, hex.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # How the session that made the token had signed in (a provider id, or "password"): a cycle
    # that requires a single sign-on provider answers only tokens made in a session signed in with it.
    signed_in_with = models.CharField(max_length=100, default="password")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.is_active else "expired"

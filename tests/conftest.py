"""Personas shared by every test: a convener and members of cycle A, a member of cycle B, anonymous."""

from dataclasses import dataclass

import pytest
from django.test import Client

from cycles.models import Role
from tests.factories import PASSWORD, CycleFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _eager_celery_in_unit_tests(settings):
    # Unit tests run tasks in-process even in services mode; tests that need a real worker
    # (tests/faults, marked tests) start one themselves.
    from config.celery import app

    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.RATELIMIT_ENABLE = False
    # The personas hash six passwords per test; the slow production hasher made that seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture
def rate_limits_on(settings, monkeypatch):
    """Rate limits on (tests/conftest.py turns them off for everything else), in one fixed window.

    django-ratelimit counts per window aligned to the clock, so requests that straddle a window's
    end start counting again: a test expecting the 11th try to be refused failed now and then in
    CI. Each key keeps the window it first got for the rest of the test.
    """
    from django.core.cache import cache
    from django_ratelimit import core

    real, windows = core._get_window, {}

    def fixed_window(value, period):
        if (value, period) not in windows:
            windows[value, period] = real(value, period)
        return windows[value, period]

    monkeypatch.setattr(core, "_get_window", fixed_window)
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    # Each test runs in its own event loop. channels_redis keeps one receive lock per layer
    # instance, bound to the loop that first waits on it; a consumer left receiving when an
    # earlier test's loop closed would leave that lock behind, and the next test's consumers
    # would fail with "bound to a different event loop". A layer per test shares nothing.
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@dataclass
class Personas:
    cycle: object
    other_cycle: object
    convener: object
    technologist: object
    employer: object
    educator: object
    observer: object
    outsider: object  # member of another cycle only

    def client_for(self, user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client


@pytest.fixture
def personas(db) -> Personas:
    cycle = CycleFactory(slug="cycle-a", title="Cycle A")
    other = CycleFactory(slug="cycle-b", title="Cycle B")
    people = {}
    for role in [Role.CONVENER, Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR, Role.OBSERVER]:
        user = UserFactory(email=f"{role}@a.test", display_name=f"{role.title()} A")
        MembershipFactory(cycle=cycle, user=user, role=role)
        people[str(role)] = user
    outsider = UserFactory(email="member@b.test", display_name="Member B")
    MembershipFactory(cycle=other, user=outsider, role=Role.CONVENER)
    return Personas(cycle=cycle, other_cycle=other, outsider=outsider, **people)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def no_model(monkeypatch):
    """A process that has not loaded the embedding model: loading it now fails the test."""
    from matching import embeddings

    def refuse():
        raise AssertionError("the embedding model was loaded")

    monkeypatch.setattr(embeddings, "model_loaded", lambda: False)
    monkeypatch.setattr(embeddings, "get_model", refuse)

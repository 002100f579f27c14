"""Findings fixtures: the demo cycles and the hand-made mini cycle, built once per test module.

Each is built inside a transaction that is rolled back when the module ends; every test still
runs in its own savepoint (the ``db`` fixture), so tests cannot leak into each other or into other
apps' tests.
"""

from contextlib import contextmanager

import pytest
from django.db import transaction
from django.test import Client, override_settings

from cycles.models import Role
from tests.factories import UserFactory
from tests.findings import builders


@contextmanager
def rolled_back(django_db_blocker):
    # The demo users' passwords are hashed with the fast test hasher (see tests/conftest.py).
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def demo_module(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        cycles = builders.build_demo()
        yield cycles


@pytest.fixture(scope="module")
def mini_module(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        yield builders.build_mini()


@pytest.fixture(scope="module")
def matched_module(mini_module, django_db_blocker):
    """The mini cycle with a hand-made, finished match run (rolled back with the mini cycle)."""
    with django_db_blocker.unblock():
        match = builders.build_mini_match(mini_module)
    yield match
    builders.clear_matching_caches()


@pytest.fixture
def matched(matched_module, mini_module, db):
    return {**mini_module, **matched_module}


@pytest.fixture
def demo(demo_module, db):
    return demo_module


@pytest.fixture
def mini(mini_module, db):
    return mini_module


@pytest.fixture
def convener_client(db):
    """A client logged in as the demo convener (a member of both demo cycles)."""
    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="convener@demo.test"))
    return client


@pytest.fixture
def mini_people(mini):
    people = {}
    for role in [Role.CONVENER, Role.TECHNOLOGIST, Role.OBSERVER]:
        user = UserFactory(email=f"{role}@mini.test", display_name=f"{role.title()} Mini")
        builders.add_member(mini["cycle"], user, role)
        people[str(role)] = user
    outsider = UserFactory(email="outsider@mini.test", display_name="Outsider")
    builders.add_member(mini["other"], outsider, Role.CONVENER)
    people["outsider"] = outsider
    return people


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client

"""A live Delphi round of cycle A (with its join code) and a capture workshop, for the join tests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import WorkshopFactory
from tests.workshops.delphi.factories import fast_passwords, start_delphi  # noqa: F401
from workshops.models import JoinCode


@pytest.fixture
def delphi(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=1)


@pytest.fixture
def code(delphi) -> JoinCode:
    return JoinCode.objects.get(round=delphi.round)


@pytest.fixture
def open_code(code) -> JoinCode:
    code.open_join, code.role, code.group = True, "technologist", "skills"
    code.save()
    return code


@pytest.fixture
def workshop(personas):
    return WorkshopFactory(cycle=personas.cycle, title="Capture workshop")


def join_url(code: JoinCode | str) -> str:
    return reverse("join_code", args=[getattr(code, "code", code)])


def round_url(number: int = 1) -> str:
    return reverse("workshops:delphi_round", args=["cycle-a", number])

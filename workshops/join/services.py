"""Join codes' writes: create one for a live screen (a Delphi round, a capture workshop)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from cycles.models import Workshop
from workshops.join.codes import new_code
from workshops.models import JoinCode, Round


def _create(**target) -> JoinCode:
    # A clash of two random codes is a one-in-10¹¹ event: draw again rather than fail.
    for _ in range(5):
        try:
            with transaction.atomic():
                return JoinCode.objects.create(code=new_code(), **target)
        except IntegrityError:
            existing = JoinCode.objects.filter(
                **{k: v for k, v in target.items() if k in ("round", "workshop")}
            ).first()
            if existing is not None:
                return existing
    raise RuntimeError("Could not draw a free join code.")


def join_code_for_round(*, rnd: Round, actor: User | None = None) -> JoinCode:
    """The round's join code, created on first need (round_open creates it)."""
    existing = JoinCode.objects.filter(round=rnd).first()
    return existing or _create(cycle=rnd.cycle, round=rnd, created_by=actor)


def join_code_for_workshop(*, workshop: Workshop, actor: User | None = None) -> JoinCode:
    existing = JoinCode.objects.filter(workshop=workshop).first()
    return existing or _create(cycle=workshop.cycle, workshop=workshop, created_by=actor)

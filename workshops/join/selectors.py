"""Join codes' reads: what the projector shows (the code, the short URL, the QR)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from core.links import site_base
from workshops.join.codes import qr_svg, shown
from workshops.models import JoinCode, Round


def join_panel(request: HttpRequest | None, code: JoinCode | None) -> dict | None:
    """The code as the room sees it: ``{"code", "shown", "join_url", "code_url", "qr_svg"}``."""
    if code is None:
        return None
    base = site_base(request)
    code_url = base + reverse("join_code", args=[code.code])
    return {
        "code": code.code,
        "shown": shown(code.code),
        "join_url": base + reverse("join"),
        "join_host": (base + reverse("join")).split("://", 1)[-1],
        "code_url": code_url,
        "qr_svg": qr_svg(code_url),
        "open_join": code.open_join,
    }


def join_panel_for_round(request: HttpRequest | None, rnd: Round) -> dict | None:
    return join_panel(request, JoinCode.objects.filter(round=rnd).first())

"""Guessing join codes is rate limited; typing one's own code is not.

Only codes that do not exist count (a withdrawn or expired code exists: its page says so). Two
counters: per address (a room full of phones shares one, behind the venue's Wi-Fi) and per person
(the signed-in user, else the browser's session when it has one). A person past their own limit is
refused everything for the rest of the minute. An address past its limit is refused every further
wrong code, and anonymous visitors from it are refused a right one too, since otherwise "refused"
against "not refused" would tell a guesser which codes exist; signed-in people with a right code
still get in, so the room's typos do not lock its members out.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_ratelimit.core import get_usage

PER_ADDRESS = "20/m"
PER_PERSON = "10/m"
GROUP_ADDRESS = "join.wrong_code.address"
GROUP_PERSON = "join.wrong_code.person"


def _person(group: str, request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"session:{request.session.session_key}"


def _has_person(request: HttpRequest) -> bool:
    return request.user.is_authenticated or bool(request.session.session_key)


def _wait(usage: dict | None) -> int | None:
    """Seconds until the window ends when the usage is over its limit, else None."""
    if usage is None or not usage["should_limit"]:
        return None
    return max(usage["time_left"], 1)


def person_wait(request: HttpRequest) -> int | None:
    """Seconds this person must wait before trying any code, or None."""
    if not _has_person(request):
        return None
    return _wait(get_usage(request, group=GROUP_PERSON, key=_person, rate=PER_PERSON))


def address_wait(request: HttpRequest) -> int | None:
    """Seconds this address must wait before an anonymous visitor may try any code, or None."""
    return _wait(get_usage(request, group=GROUP_ADDRESS, key="ip", rate=PER_ADDRESS))


def count_wrong(request: HttpRequest) -> int | None:
    """Count a code that does not exist; seconds to wait if this one went over a limit, or None."""
    waits = [_wait(get_usage(request, group=GROUP_ADDRESS, key="ip", rate=PER_ADDRESS, increment=True))]
    if _has_person(request):
        waits.append(_wait(get_usage(request, group=GROUP_PERSON, key=_person, rate=PER_PERSON, increment=True)))
    found = [w for w in waits if w is not None]
    return max(found) if found else None

"""The page helpers every view uses: one URL, full page or named partial, with messages.

``render_page(request, "app/page.html", "part", context)`` renders the whole page, or for an htmx
request only ``app/page.html#part`` plus the queued messages as an out-of-band swap into
``#messages`` (so "Saved." still appears when only a fragment is replaced).
``login_required`` sends anonymous visitors to the login page; for htmx requests it asks the
browser to navigate there instead of swapping the login form into the page (an expired session
on a polling fragment must not turn the fragment into a login form).
``stop_polling(response)`` is the one way a polling fragment says "nothing left to poll": htmx
stops an ``hx-trigger="every ..."`` poll when the answer's status is 286.
``safe_next(request, default)`` is where a form that says where to go back (``next``) goes: the
posted ``next`` when it is a page of this site, else ``default`` (never an open redirect).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def render_page(
    request: HttpRequest,
    template: str,
    partial: str | None,
    context: dict,
    *,
    status: int = 200,
    oob_partials: tuple[str, ...] = (),
) -> HttpResponse:
    """``oob_partials`` are further partials of the same template sent along (their root must
    carry ``{% if oob %}hx-swap-oob="true"{% endif %}``) to refresh other parts of the page."""
    if partial and is_htmx(request):
        html = render_to_string(f"{template}#{partial}", context, request=request)
        for extra in oob_partials:
            html += render_to_string(f"{template}#{extra}", {**context, "oob": True}, request=request)
        html += render_to_string("_messages.html", {"oob": True}, request=request)
        return HttpResponse(html, status=status)
    return HttpResponse(render_to_string(template, context, request=request), status=status)


def login_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if is_htmx(request):
            login = resolve_url(settings.LOGIN_URL)
            current = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(f"{login}?{urlencode({'next': current})}")
        return redirect_to_login(request.get_full_path())

    return wrapper


def stop_polling(response: HttpResponse) -> HttpResponse:
    """Mark a polling fragment's last answer: htmx swaps it in and stops polling."""
    response.status_code = HttpResponseStopPolling.status_code
    return response


def safe_next(request: HttpRequest, default: str) -> str:
    """The posted (or asked) ``next`` when it points into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default

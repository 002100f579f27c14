"""Turns a cycle's single sign-on requirement (accounts.sso.SignInRequired) into a page with the
provider's button, rather than a bare 403: the person can switch sign-in without losing their way."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.sso import SignInRequired, provider_buttons


class SignInRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SignInRequired):
            return None
        buttons = [b for b in provider_buttons(request) if b["id"] == exception.provider_id]
        context = {"message": exception.message, "providers": buttons, "next": exception.next_url}
        return render(request, "accounts/sso_required.html", context, status=403)

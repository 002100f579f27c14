"""The tokens page: a person lists, creates and revokes their own personal API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.sso import signed_in_with
from api import selectors, services
from api.forms import ApiTokenForm
from api.models import ApiToken
from core.pages import login_required

TOKEN_REVOKED = "Token “{name}” revoked: requests with it are refused from now on."
NO_SUCH_TOKEN = "You have no such token."


def _get_own_token(request: HttpRequest, pk: int) -> ApiToken:
    token = selectors.api_tokens_of(user=request.user).filter(pk=pk).first()
    if token is None:
        raise Http404(NO_SUCH_TOKEN)
    return token


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    created = raw = None
    if request.method == "POST" and form.is_valid():
        created, raw = services.api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            lifetime_days=form.cleaned_data["lifetime"],
            signed_in_with=signed_in_with(request),
        )
        form = ApiTokenForm()  # the token is on this response only: it is never shown again
    context = {
        "form": form,
        "tokens": selectors.api_tokens_of(user=request.user),
        "created": created,
        "raw": raw,
    }
    response = render(request, "api/tokens.html", context, status=400 if form.errors else 200)
    if raw:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = _get_own_token(request, pk)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, TOKEN_REVOKED.format(name=token.name))
    return redirect("api:tokens")

"""The read API: one NinjaAPI, its token check, its refusals and its routers.

Served at ``/api/v1/``, with the OpenAPI 3 schema at ``/api/v1/openapi.json`` and its docs page
at ``/api/v1/docs`` (Swagger UI from django-ninja's own static files, no CDN). Every endpoint is
a GET: the API never changes anything.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from api.common import TokenAuth
from api.routes import cycles, delphi, findings, fops, matching
from cycles.access import ROLE_NOT_ALLOWED

NOT_FOUND = "Not found, or in a cycle the token's owner is not a member of."
UNAUTHORIZED = "A valid personal API token is needed: `Authorization: Bearer wfp_…` (create one on your profile)."

api = NinjaAPI(
    title="Workforce foresighting read API",
    version="1",
    description=(
        "Read-only access to the cycles you belong to, with the same permissions and anonymity as the pages. "
        "Authenticate with a personal API token (`Authorization: Bearer wfp_…`) from *Your profile → API tokens*. "
        "Lists take `limit` (1–500, default 100) and `offset` and answer `{items, count}`."
    ),
    auth=TokenAuth(),
    urls_namespace="api:v1",
)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    # One message whatever was missing, so a 404 never tells an outsider that a cycle exists.
    return api.create_response(request, {"detail": NOT_FOUND}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or ROLE_NOT_ALLOWED}, status=403)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(request, {"detail": UNAUTHORIZED}, status=401)


for module in (cycles, delphi, fops, matching, findings):
    api.add_router("", module.router)

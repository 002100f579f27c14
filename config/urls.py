from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # Single sign-on (django-allauth's OpenID Connect and SAML flows): accounts/sso_urls.py.
    path("accounts/sso/", include("accounts.sso_urls")),
    path("", include("core.urls")),
    path("", include("privacy.urls")),
    path("", include("workshops.join.urls")),
    path("", include("cycles.urls")),
    path("", include("workshops.urls")),
    path("", include("matching.urls")),
    path("", include("findings.urls")),
    path("", include("api.urls")),
]

# The product's own error pages (core/errors.py): used whenever Django's DEBUG is off, which
# DEBUG_PAGES=false gives in development too (`make run`).
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"

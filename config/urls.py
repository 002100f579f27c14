from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("cycles.urls")),
    path("", include("workshops.urls")),
    path("", include("matching.urls")),
    path("", include("findings.urls")),
]

from django.urls import include, path

from api import views
from api.main import api

app_name = "api"
urlpatterns = [
    path("accounts/api-tokens/", views.tokens, name="tokens"),
    path("accounts/api-tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    # Nested as api:v1 (the namespace the NinjaAPI is told), beside the tokens pages.
    path("api/v1/", include((api.urls[0], "v1"))),
]

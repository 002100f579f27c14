"""django-allauth's single sign-on URLs, under /accounts/sso/ (config/urls.py), without its own
password, sign-up and email pages: those stay the ones in accounts/urls.py.

allauth reverses a few of its account URL names (``account_login``, ``account_signup``,
``account_inactive``) from its flows and templates; here they lead to the one login page.
"""

from allauth.socialaccount import views as social_views
from allauth.urls import build_provider_urlpatterns
from django.urls import path, reverse_lazy
from django.views.generic.base import RedirectView

from accounts import views

_to_login = RedirectView.as_view(url=reverse_lazy("accounts:login"), query_string=True)

urlpatterns = [
    path("login/", _to_login, name="account_login"),
    path("signup/", _to_login, name="account_signup"),
    path("inactive/", _to_login, name="account_inactive"),
    path("login/cancelled/", social_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("login/error/", social_views.login_error, name="socialaccount_login_error"),
    # Reached only when an automatic sign-up fails; allauth's form would let the email be edited.
    path("signup/incomplete/", views.sso_signup_refused, name="socialaccount_signup"),
    *build_provider_urlpatterns(),  # oidc/<provider_id>/login/ and …/callback/; saml/<id>/acs/ etc.
]

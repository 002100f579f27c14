from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit

TOO_MANY_ATTEMPTS = "Too many attempts. Please wait a minute and try again."


def rate_limited(request, exception=None) -> HttpResponse:
    """Shown when a rate limit (login, invitation acceptance) is exceeded."""
    html = render_to_string("accounts/rate_limited.html", {"message": TOO_MANY_ATTEMPTS}, request=request)
    return HttpResponse(html, status=429)


@method_decorator(ratelimit(key="ip", rate="10/m", method="POST", block=True), name="post")
@method_decorator(ratelimit(key="post:username", rate="10/m", method="POST", block=True), name="post")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

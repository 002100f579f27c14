from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.decorators import method_decorator
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit

from accounts.forms import PasswordChangeForm, ProfileForm
from accounts.profile import profile_sections
from core.pages import login_required

TOO_MANY_ATTEMPTS = "Too many attempts. Please wait a minute and try again."


def rate_limited(request, exception=None) -> HttpResponse:
    """Shown when a rate limit (login, invitation acceptance) is exceeded."""
    html = render_to_string("accounts/rate_limited.html", {"message": TOO_MANY_ATTEMPTS}, request=request)
    return HttpResponse(html, status=429)


#: Wrong passwords allowed per address in a minute. Only failures count: a workshop room of two
#: hundred people behind one Wi-Fi address logs in at once without being refused, while spraying
#: passwords over many accounts from one address is still stopped.
FAILED_LOGINS_PER_ADDRESS = "20/m"
FAILED_LOGINS_GROUP = "accounts.login.failed-per-address"


@method_decorator(ratelimit(key="post:username", rate="10/m", method="POST", block=True), name="post")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def _address_limited(self, *, increment: bool) -> bool:
        return is_ratelimited(
            self.request, group=FAILED_LOGINS_GROUP, key="ip", rate=FAILED_LOGINS_PER_ADDRESS, increment=increment
        )

    def post(self, request, *args, **kwargs):
        if self._address_limited(increment=False):
            return rate_limited(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if self._address_limited(increment=True):
            return rate_limited(self.request)
        return super().form_invalid(form)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own page: their name, password, organisation and cycles."""
    user = request.user
    profile_form = ProfileForm(instance=user, prefix="profile")
    password_form = PasswordChangeForm(user, prefix="password")
    status = 200
    if request.method == "POST":
        if "password-old_password" in request.POST:
            password_form = PasswordChangeForm(user, request.POST, prefix="password")
            if password_form.is_valid():
                password_form.save()
                update_session_auth_hash(request, password_form.user)  # stay signed in here
                messages.success(request, "Your password was changed.")
                return redirect("accounts:profile")
        else:
            profile_form = ProfileForm(request.POST, instance=user, prefix="profile")
            if profile_form.is_valid():
                profile_form.save()
                messages.success(request, "Your display name was saved.")
                return redirect("accounts:profile")
        status = 400
    context = {
        "profile_form": profile_form,
        "password_form": password_form,
        "sections": profile_sections(user),
    }
    return render(request, "accounts/profile.html", context, status=status)

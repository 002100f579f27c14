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
from accounts.sso import PASSWORD_LOGIN_OFF, password_login_enabled, password_refusal, provider_buttons
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["providers"] = provider_buttons(self.request)
        context["password_login"] = password_login_enabled()
        return context

    def _refuse(self, form, message: str):
        if form.is_bound:
            form.add_error(None, message)
        return self.render_to_response(self.get_context_data(form=form, refusal=message), status=403)

    def post(self, request, *args, **kwargs):
        if self._address_limited(increment=False):
            return rate_limited(request)
        if not password_login_enabled():
            # Refused before the password is checked: the form says nothing about it.
            return self._refuse(self.get_form_class()(request=request), PASSWORD_LOGIN_OFF)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        message = password_refusal(form.get_user(), self.get_redirect_url())
        if message:
            return self._refuse(form, message)
        # An earlier single sign-on in this session must not make this password login count as one.
        self.request.session.pop("account_authentication_methods", None)
        return super().form_valid(form)

    def form_invalid(self, form):
        if self._address_limited(increment=True):
            return rate_limited(self.request)
        return super().form_invalid(form)


SSO_SIGNUP_INCOMPLETE = (
    "Your sign-in could not be matched to an invitation or an account. Ask the convener of your cycle to "
    "invite the address your organisation's sign-in gives."
)


def sso_signup_refused(request: HttpRequest) -> HttpResponse:
    """Where allauth sends a single sign-on it could not sign up automatically: no form that would let
    the person choose another address than the one their provider verified."""
    return render(request, "accounts/sso_refused.html", {"message": SSO_SIGNUP_INCOMPLETE}, status=403)


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


class PasswordResetView(auth_views.PasswordResetView):
    """Password reset, unless passwords are turned off (PASSWORD_LOGIN=false): then no email offers one."""

    def dispatch(self, request, *args, **kwargs):
        if not password_login_enabled():
            return render(request, "accounts/sso_refused.html", {"message": PASSWORD_LOGIN_OFF}, status=403)
        return super().dispatch(request, *args, **kwargs)

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import PreferencesForm, ProfileForm, RateLimitedAuthenticationForm, SignupForm, TokenForm
from accounts.selectors import token_get, token_list
from accounts.services import TokenLimitReached, preferences_for, token_create, token_revoke, user_create
from emotune.logbook import client_ip, log_write


def bound_data(request):
    """The POST data to bind a form to (even an empty POST is a submission), or None on GET."""
    return request.POST if request.method == "POST" else None


class SignInView(auth_views.LoginView):
    """Django's sign-in page; an attempt refused by the rate limit is answered 429 with Retry-After."""

    template_name = "accounts/login.html"
    authentication_form = RateLimitedAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limit is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.rate_limit.retry_after)
        return response


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(bound_data(request))
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data.get("email", ""),
            ip=client_ip(request),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to emotune!"))
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(bound_data(request), instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        log_write(action="account.profile", user_id=request.user.pk, ip=client_ip(request))
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    # A token just made: its secret is shown on this one view of the page (token_new), then gone.
    secret = request.session.pop(_NEW_SECRET, None) if request.method == "GET" else None
    response = _profile_page(request, form, secret=secret)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


_NEW_SECRET = "accounts.new_token_secret"


def _profile_page(request, form, *, token_form=None, secret: str | None = None, status: int = 200):
    context = {"form": form, "token_form": token_form or TokenForm(), "tokens": token_list(user=request.user),
               "new_secret": secret}
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_POST
def token_new(request):
    """Create a token; the profile page shows its secret once (it is stored hashed: never shown again)."""
    token_form = TokenForm(request.POST)
    if token_form.is_valid():
        try:
            _token, secret = token_create(user=request.user, name=token_form.cleaned_data["name"], ip=client_ip(request))
        except TokenLimitReached as exc:
            token_form.add_error("name", str(exc))
        else:
            # Post/redirect/get: reloading the page that shows the secret must not make a second token.
            request.session[_NEW_SECRET] = secret
            return redirect(reverse("accounts:profile") + "#tokens")
    return _profile_page(request, ProfileForm(instance=request.user), token_form=token_form, status=400)


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    token_revoke(token=token_get(user=request.user, pk=pk), ip=client_ip(request))
    messages.success(request, _("Token revoked."))
    return redirect("accounts:profile")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    prefs = preferences_for(user=request.user)
    form = PreferencesForm(bound_data(request), instance=prefs)
    if request.method == "POST" and form.is_valid():
        prefs = form.save()
        log_write(action="account.preferences", user_id=request.user.pk, ip=client_ip(request))
        messages.success(request, _("Preferences saved."))
        response = redirect("accounts:preferences")
        translation.activate(prefs.ui_language)
        response.set_cookie("django_language", prefs.ui_language, samesite="Lax", secure=request.is_secure())
        return response
    return render(request, "accounts/preferences.html", {"form": form})

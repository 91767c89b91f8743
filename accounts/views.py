from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import PreferencesForm, ProfileForm, SignupForm
from accounts.services import preferences_for, user_create
from ops.services import client_ip, log_write


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
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
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        log_write(action="account.profile", user_id=request.user.pk, ip=client_ip(request))
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    prefs = preferences_for(user=request.user)
    form = PreferencesForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        prefs = form.save()
        log_write(action="account.preferences", user_id=request.user.pk, ip=client_ip(request))
        messages.success(request, _("Preferences saved."))
        response = redirect("accounts:preferences")
        translation.activate(prefs.ui_language)
        response.set_cookie("django_language", prefs.ui_language, samesite="Lax", secure=request.is_secure())
        return response
    return render(request, "accounts/preferences.html", {"form": form})

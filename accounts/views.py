"""Profile page: preferences, personal API tokens, and becoming an agent developer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import ApiTokenCreateForm, DeveloperProfileForm, ProfileForm
from accounts.models import User
from accounts.services import (
    api_token_create,
    api_token_revoke,
    developer_profile_create,
    profile_update,
)
from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error


def _profile_page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    context = {
        "profile_form": forms.get("profile_form") or ProfileForm(instance=user),
        "token_form": forms.get("token_form") or ApiTokenCreateForm(),
        "developer_form": forms.get("developer_form")
        or DeveloperProfileForm(initial={"display_name": user.display_name}),
        "tokens": user.api_tokens.filter(revoked_at__isnull=True),
        "new_token": forms.get("new_token"),
        "developer_profile": getattr(user, "developer_profile", None),
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _profile_page(request)
    # Bind to a copy: a failed save must not change the page's user object.
    form = ProfileForm(request.POST, instance=User.objects.get(pk=request.user.pk))
    if form.is_valid():
        profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return _profile_page(request, status=400, profile_form=form)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            # Rendered, not redirected: the plaintext exists only in this response.
            messages.success(
                request, f"Token “{token.name}” created. Copy it now: it is shown once."
            )
            return _profile_page(request, new_token=raw)
    return _profile_page(request, status=400, token_form=form)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = api_token_revoke(user=request.user, token_id=token_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked. Requests using it now fail.")
    return redirect("accounts:profile")


@login_required
@require_POST
def developer_create(request: HttpRequest) -> HttpResponse:
    form = DeveloperProfileForm(request.POST)
    if form.is_valid():
        try:
            developer_profile_create(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "You are now an agent developer.")
            return redirect("accounts:profile")
    return _profile_page(request, status=400, developer_form=form)

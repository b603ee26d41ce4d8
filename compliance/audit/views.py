"""Privacy page: download my data (JSON) and delete my account (password confirmation)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.privacy import user_data_export, user_erase
from agentnexus.core.errors import ApplicationError


class EraseAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone.",
        required=True,
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


def _page(request: HttpRequest, form: EraseAccountForm | None = None, status: int = 200):
    return render(
        request,
        "audit/privacy.html",
        {"erase_form": form or EraseAccountForm(user=request.user)},
        status=status,
    )


@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def privacy_export(request: HttpRequest) -> HttpResponse:
    data = user_data_export(user=request.user)
    body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"agentnexus-data-{timezone.now():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def privacy_delete(request: HttpRequest) -> HttpResponse:
    form = EraseAccountForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        user_erase(user=request.user)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _page(request, form, status=409)
    logout(request)
    messages.success(
        request, "Your account is deleted. Records the law requires us to keep are anonymized."
    )
    return redirect("/")

"""The /kyc page (status, levels, verification form) and provider webhooks."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from compliance.kyc.forms import KycVerificationForm
from compliance.kyc.providers import WebhookRejected
from compliance.kyc.selectors import LEVELS, kyc_status, kyc_unread_notifications
from compliance.kyc.services import PersonalData, kyc_submission_create, kyc_webhook_handle
from compliance.kyc.uploads import KycMemoryUploadHandler

logger = logging.getLogger(__name__)


def _kyc_page(request: HttpRequest, *, form: KycVerificationForm | None = None, status: int = 200):
    profile = kyc_status(user=request.user)
    pending = request.user.kyc_submissions.filter(status="pending").exists()
    context = {
        "profile": profile,
        "kyc_status": profile.status if profile else "none",
        "level": profile.level if profile else 0,
        "levels": LEVELS,
        "pending": pending,
        "form": form or KycVerificationForm(),
        "notifications": kyc_unread_notifications(user=request.user),
    }
    return render(request, "kyc/kyc.html", context, status=status)


@csrf_exempt  # the upload handlers must be set before the CSRF check reads the body
def kyc_page(request: HttpRequest) -> HttpResponse:
    # Documents stay in memory (never a temporary file) up to the size limit.
    request.upload_handlers = [KycMemoryUploadHandler(request)]
    return _kyc_page_protected(request)


@csrf_protect
@login_required
def _kyc_page_protected(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _kyc_page(request)
    form = KycVerificationForm(request.POST, request.FILES)
    if form.is_valid():
        data = dict(form.cleaned_data)
        document = data.pop("document").read()
        try:
            kyc_submission_create(
                user=request.user, personal=PersonalData(**data), document=document
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Thank you: your verification is submitted for review.")
            return redirect("kyc:page")
    return _kyc_page(request, form=form, status=400)


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    from django.utils import timezone

    request.user.kyc_notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("kyc:page")


@csrf_exempt  # authenticated by the provider's HMAC signature instead
@require_POST
def provider_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        outcome = kyc_webhook_handle(
            provider_name=provider, body=request.body, headers=dict(request.headers)
        )
    except WebhookRejected as exc:
        logger.warning("KYC webhook from %s refused: %s", provider, exc)
        return JsonResponse({"error": str(exc)}, status=exc.status_code)
    return JsonResponse({"ok": True, "outcome": outcome})

"""KYC admin: staff review submissions here — the only place decrypted personal data and
documents are shown, and every view of them is recorded in the audit trail (compliance.audit)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from agentnexus.core.admin import ReadOnlyAdminMixin
from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from compliance.kyc.forms import KycReviewForm
from compliance.kyc.models import (
    CategoryKycRequirement,
    KycDocument,
    KycProfile,
    KycSubmission,
    Notification,
)
from compliance.kyc.services import (
    kyc_access_record,
    kyc_document_content,
    kyc_personal_data,
    kyc_submission_approve,
    kyc_submission_reject,
)


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(KycSubmission)
class KycSubmissionAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "user",
        "status",
        "requested_level",
        "provider",
        "created_at",
        "review_link",
    )
    list_filter = ("status", "provider")
    search_fields = ("user__email", "public_id", "provider_ref")
    # The ciphertext is never put in a form; the review page shows the decrypted values.
    fields = (
        "public_id",
        "user",
        "status",
        "reason",
        "requested_level",
        "granted_level",
        "provider",
        "provider_ref",
        "key_id",
        "created_at",
        "reviewed_at",
        "reviewed_by",
    )
    readonly_fields = fields

    def has_view_permission(self, request, obj=None) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and super().has_view_permission(request, obj)
        )

    @admin.display(description="Review")
    def review_link(self, obj: KycSubmission) -> str:
        return format_html(
            '<a href="{}">Review</a>', reverse("admin:kyc_kycsubmission_review", args=[obj.pk])
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="kyc_kycsubmission_review",
            ),
            path(
                "document/<int:pk>/",
                self.admin_site.admin_view(self.document_view),
                name="kyc_kycdocument_view",
            ),
            *super().get_urls(),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._check(request)
        submission = get_object_or_404(KycSubmission.objects.select_related("user"), pk=pk)
        form = KycReviewForm(
            request.POST if request.method == "POST" else None,
            initial={"level": submission.requested_level},
        )
        if request.method == "POST":
            if not request.user.has_perm("kyc.change_kycsubmission"):
                raise PermissionDenied
            if form.is_valid():
                try:
                    if form.cleaned_data["decision"] == "approve":
                        kyc_submission_approve(
                            submission=submission,
                            level=form.cleaned_data["level"] or None,
                            reviewer=request.user,
                        )
                    else:
                        kyc_submission_reject(
                            submission=submission,
                            reason=form.cleaned_data["reason"],
                            reviewer=request.user,
                        )
                except ApplicationError as exc:
                    add_application_error(form, exc)
                else:
                    messages.success(request, f"Submission {submission.public_id} decided.")
                    return redirect("admin:kyc_kycsubmission_changelist")
        kyc_access_record(
            staff=request.user,
            submission=submission,
            action="view_personal_data",
            ip=request.META.get("REMOTE_ADDR"),
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review KYC submission {submission.public_id}",
            "opts": self.model._meta,
            "submission": submission,
            "personal": kyc_personal_data(submission=submission),
            "documents": submission.documents.all(),
            "form": form,
            "can_decide": submission.status == "pending",
        }
        return TemplateResponse(request, "kyc/admin_review.html", context)

    def document_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._check(request)
        document = get_object_or_404(KycDocument.objects.select_related("submission"), pk=pk)
        kyc_access_record(
            staff=request.user,
            submission=document.submission,
            document=document,
            action="view_document",
            ip=request.META.get("REMOTE_ADDR"),
        )
        response = HttpResponse(
            kyc_document_content(document=document), content_type=document.content_type
        )
        response["Content-Disposition"] = "inline"
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; plugin-types application/pdf"
        )
        return response


@admin.register(KycProfile)
class KycProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "level", "status", "updated_at")
    list_filter = ("level", "status")
    search_fields = ("user__email",)


@admin.register(CategoryKycRequirement)
class CategoryKycRequirementAdmin(admin.ModelAdmin):
    list_display = ("category", "min_level")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "message", "read_at")

"""The submission review queue: pending reviews first; a review page with the manifest, its diff
against the previous version, scan findings, smoke-test results and step logs; approve or reject
with feedback. The pages are thin: agents.services decides and records."""

from __future__ import annotations

import difflib
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from agentnexus.core.errors import ApplicationError
from agents.models import Submission, SubmissionStatus
from agents.services import submission_approve, submission_reject


class RejectForm(forms.Form):
    feedback = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text="Sent to the developer: what to change before submitting again.",
        max_length=10_000,
    )


def _pretty(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def previous_manifest(submission: Submission) -> tuple[str, dict | None]:
    """(label, manifest) of the version this one follows: the last approved submission of the
    agent, else the agent's current catalog version (listed before the pipeline existed)."""
    previous = (
        Submission.objects.filter(slug=submission.slug, status=SubmissionStatus.APPROVED)
        .exclude(pk=submission.pk)
        .order_by("-reviewed_at", "-id")
        .first()
    )
    if previous is not None:
        return f"{previous.slug} {previous.version}", previous.manifest
    agent = submission.agent
    version = agent.current_version if agent else None
    if version is None:
        return "", None
    return f"{agent.slug} {version.version} (catalog)", {
        "slug": agent.slug,
        "name": agent.name,
        "version": version.version,
        "summary": agent.summary,
        "description": agent.description,
        "category": agent.category.slug,
        "tags": agent.tags,
        "input_schema": version.input_schema,
        "output_schema": version.output_schema,
        "pricing": {version.currency: f"{version.price.normalize():f}"},
        "resources": {
            "memory_mb": version.memory_mb,
            "cpus": float(version.cpus),
            "timeout_s": version.timeout_seconds,
        },
    }


def manifest_diff(submission: Submission) -> tuple[str, str]:
    """(label of the previous version, unified diff of the pretty JSON manifests)."""
    label, before = previous_manifest(submission)
    if before is None:
        return "", ""
    diff = difflib.unified_diff(
        _pretty(before).splitlines(),
        _pretty(submission.manifest).splitlines(),
        fromfile=label,
        tofile=f"{submission.slug} {submission.version}",
        lineterm="",
    )
    return label, "\n".join(diff)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("slug", "version", "status", "failed_step", "developer", "agent", "created_at")
    list_filter = ("status", "failed_step")
    search_fields = ("slug", "version", "public_id", "developer__user__email")
    list_select_related = ("developer__user", "agent")
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("archive")

    def get_ordering(self, request: HttpRequest):
        # The review queue: pending reviews first, newest first within each group.
        pending_first = Case(
            When(status=SubmissionStatus.PENDING_REVIEW, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return (pending_first.asc(), "-created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # submissions come from developers

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record of what was reviewed stays

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name=f"{info[0]}_{info[1]}_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name=f"{info[0]}_{info[1]}_reject",
            ),
            *super().get_urls(),
        ]

    # ------------------------------------------------------------------ review page

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        submission = self._get(request, object_id, change=False)
        label, diff = manifest_diff(submission)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review {submission.slug} {submission.version}",
            "submission": submission,
            "original": submission,
            "manifest_json": _pretty(submission.manifest),
            "previous_label": label,
            "manifest_diff": diff,
            "findings": list(submission.findings.all()),
            "smoke_results": [
                (r, _pretty(r.input), _pretty(r.output) if r.output is not None else "")
                for r in submission.smoke_results.all()
            ],
            "log_lines": list(submission.log_lines.order_by("seq")),
            "events": list(submission.events.select_related("actor")),
            "can_review": submission.status == SubmissionStatus.PENDING_REVIEW
            and self.has_change_permission(request, submission),
        }
        return TemplateResponse(request, "admin/agents/submission/review.html", context)

    # ------------------------------------------------------------------ actions

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        submission = self._get(request, object_id, change=True)
        if request.method == "POST":
            try:
                version = submission_approve(submission=submission, reviewer=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Approved: {version.agent.slug} {version.version} is now the current version.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._changelist_url())
            return HttpResponseRedirect(self._review_url(submission))
        return TemplateResponse(
            request,
            "admin/agents/submission/approve.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Approve {submission.slug} {submission.version}",
                "submission": submission,
                "original": submission,
            },
        )

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        submission = self._get(request, object_id, change=True)
        form = RejectForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                submission_reject(
                    submission=submission,
                    reviewer=request.user,
                    feedback=form.cleaned_data["feedback"],
                )
            except ApplicationError as exc:
                for name, problems in exc.fields.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, f"Rejected {submission.slug} {submission.version}.", messages.SUCCESS
                )
                return HttpResponseRedirect(self._changelist_url())
        return TemplateResponse(
            request,
            "admin/agents/submission/reject.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Reject {submission.slug} {submission.version}",
                "submission": submission,
                "original": submission,
                "form": form,
            },
        )

    # ------------------------------------------------------------------ helpers

    def _get(self, request: HttpRequest, object_id: str, *, change: bool) -> Submission:
        submission = get_object_or_404(
            Submission.objects.select_related("developer__user", "agent", "reviewer"),
            pk=object_id,
        )
        allowed = (
            self.has_change_permission(request, submission)
            if change
            else self.has_view_or_change_permission(request, submission)
        )
        if not allowed:
            raise PermissionDenied
        return submission

    def _changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def _review_url(self, submission: Submission) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[submission.pk]
        )

"""Audit trail in the admin: read-only entries, CSV export of a date range, the monthly
compliance report, and `AuditedAdminMixin` for the admin classes of users, agents and money."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from agentnexus.core.admin import ReadOnlyAdminMixin
from compliance.audit.exports import audit_csv_rows, entries_between
from compliance.audit.mixins import AuditedAdminMixin  # noqa: F401 - re-exported
from compliance.audit.models import AuditEntry
from compliance.audit.report import compliance_report, report_csv
from compliance.audit.services import audit_record

# ---------------------------------------------------------------------------------------------
# The audit trail itself
# ---------------------------------------------------------------------------------------------


class DateRangeForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return cleaned


class MonthForm(forms.Form):
    month = forms.DateField(
        input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["seq", "created_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type", "created_at"]
    search_fields = ["=seq", "action", "actor_label", "object_type", "=object_id", "=hash"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    date_hierarchy = "created_at"
    change_list_template = "audit/admin/auditentry_change_list.html"
    show_full_result_count = False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="audit_auditentry_export"),
            path("report/", wrap(self.report_view), name="audit_auditentry_report"),
            *super().get_urls(),
        ]

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DateRangeForm(request.GET or None)
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            audit_record(
                actor=request.user,
                action="audit.export",
                data={"start": start.isoformat(), "end": end.isoformat()},
            )
            response = StreamingHttpResponse(
                audit_csv_rows(entries_between(start=start, end=end)),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="audit-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
            )
            return response
        return TemplateResponse(
            request,
            "audit/admin/export.html",
            self._context(request, "Export the audit trail", form=form),
        )

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        form = MonthForm(request.GET or {"month": f"{today:%Y-%m}"})
        month = form.cleaned_data["month"] if form.is_valid() else date(today.year, today.month, 1)
        report = compliance_report(month=month)
        if request.GET.get("format") == "csv":
            response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="compliance-report-{month:%Y-%m}.csv"'
            )
            return response
        return TemplateResponse(
            request,
            "audit/admin/report.html",
            self._context(
                request,
                f"Compliance report, {month:%B %Y}",
                form=form,
                report=report,
                month_param=f"{month:%Y-%m}",
            ),
        )

"""Developer pages: the dashboard, submitting an agent or a version, following a submission."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from agents.models import Submission
from agents.selectors import developer_dashboard
from agents.services import submission_create, submission_log_after
from marketplace.models import Agent
from payments.models import Wallet
from payments.selectors import developer_earnings


class SubmitForm(forms.Form):
    archive = forms.FileField(
        label="Build context (.tar.gz)",
        help_text="A gzipped tar with agent.yaml and the Dockerfile at its root "
        "(docs/agent-manifest.md).",
        widget=forms.ClearableFileInput(attrs={"accept": ".tar.gz,.tgz,application/gzip"}),
    )
    agent = forms.ModelChoiceField(
        label="New version of",
        queryset=Agent.objects.none(),
        required=False,
        empty_label="A new agent",
        help_text="Leave as a new agent, or pick one of yours to submit its next version.",
    )

    def __init__(self, *args, developer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = Agent.objects.filter(developer=developer).order_by("name")


def _developer(request: HttpRequest):
    developer = getattr(request.user, "developer_profile", None)
    if developer is None:
        return None
    return developer


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    developer = _developer(request)
    if developer is None:
        return redirect("accounts:developer_create")
    return render(
        request,
        "agents/dashboard.html",
        {
            "developer": developer,
            "data": developer_dashboard(developer=developer),
            "earnings": developer_earnings(developer=developer),
            "wallets": Wallet.objects.filter(user=request.user),
        },
    )


@login_required
def submit(request: HttpRequest) -> HttpResponse:
    developer = _developer(request)
    if developer is None:
        return redirect("accounts:developer_create")
    form = SubmitForm(request.POST or None, request.FILES or None, developer=developer)
    if request.method == "POST" and form.is_valid():
        try:
            submission = submission_create(
                developer=developer,
                archive_fileobj=form.cleaned_data["archive"],
                agent=form.cleaned_data["agent"],
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            return redirect("developer:submission", submission_id=submission.public_id)
    return render(
        request,
        "agents/submit.html",
        {"form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


def _own_submission(request: HttpRequest, submission_id) -> Submission:
    submission = get_object_or_404(Submission, public_id=submission_id)
    developer = _developer(request)
    if not request.user.is_staff and (developer is None or submission.developer_id != developer.pk):
        raise Http404
    return submission


@login_required
def submission_detail(request: HttpRequest, submission_id) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    return render(
        request,
        "agents/submission.html",
        {
            "submission": submission,
            "lines": submission_log_after(submission=submission, after=0, limit=5000),
            "findings": submission.findings.all() if hasattr(submission, "findings") else [],
        },
    )


@login_required
def submission_status(request: HttpRequest, submission_id) -> JsonResponse:
    """Polled by the submission page: status and log lines after `after`."""
    submission = _own_submission(request, submission_id)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    lines = submission_log_after(submission=submission, after=after, limit=500)
    return JsonResponse(
        {
            "status": submission.status,
            "status_display": submission.get_status_display(),
            "error": submission.error_message,
            "lines": [{"seq": line.seq, "step": line.step, "line": line.line} for line in lines],
        }
    )

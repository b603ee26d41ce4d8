"""Developer pages: the dashboard, submitting an agent or a version, following a submission."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from agents.models import Submission
from agents.selectors import developer_agent_get, developer_dashboard
from agents.services import submission_create, submission_log_after
from marketplace.models import Agent, AgentVersion
from marketplace.services import agent_deprecate, agent_reactivate, agent_version_deprecate
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
    posted = request.method == "POST"
    form = SubmitForm(
        request.POST if posted else None, request.FILES if posted else None, developer=developer
    )
    if posted and form.is_valid():
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


class DeprecateForm(forms.Form):
    reason = forms.CharField(
        label="Note for users (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the agent's page, e.g. which agent to use instead.",
    )


def _own_agent(request: HttpRequest, slug: str) -> Agent:
    agent = developer_agent_get(developer=_developer(request), slug=slug)
    if agent is None:
        raise Http404
    return agent


def _confirm(
    request: HttpRequest, *, agent: Agent, version: AgentVersion | None, act
) -> HttpResponse:
    form = DeprecateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data["reason"])
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            what = f"Version {version.version} of {agent.name}" if version else agent.name
            messages.success(request, f"{what} is deprecated.")
            return redirect("developer:dashboard")
    return render(
        request,
        "agents/deprecate.html",
        {"agent": agent, "version": version, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def agent_deprecate_view(request: HttpRequest, slug: str) -> HttpResponse:
    agent = _own_agent(request, slug)
    return _confirm(
        request,
        agent=agent,
        version=None,
        act=lambda reason: agent_deprecate(agent=agent, by=request.user, reason=reason),
    )


@login_required
def version_deprecate_view(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    agent = _own_agent(request, slug)
    agent_version = get_object_or_404(AgentVersion, agent=agent, version=version)
    return _confirm(
        request,
        agent=agent,
        version=agent_version,
        act=lambda reason: agent_version_deprecate(
            version=agent_version, by=request.user, reason=reason
        ),
    )


@login_required
@require_POST
def agent_reactivate_view(request: HttpRequest, slug: str) -> HttpResponse:
    agent = _own_agent(request, slug)
    try:
        agent_reactivate(agent=agent, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{agent.name} is active again.")
    return redirect("developer:dashboard")


@login_required
@require_POST
def payout_set_view(request: HttpRequest) -> HttpResponse:
    """Receive payouts on one of the developer's linked wallets."""
    from payments.wallets import developer_payout_set, wallet_get

    try:
        wallet = wallet_get(user=request.user, wallet_id=int(request.POST.get("wallet", "0")))
        profile = developer_payout_set(user=request.user, wallet=wallet)
    except ValueError:
        messages.error(request, "Choose one of your linked wallets.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Payouts now go to {profile.payout_address}; your listed agents are updated on "
            "chain in the background.",
        )
    return redirect("developer:dashboard")

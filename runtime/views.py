"""Run pages: start a run from a form generated from the input schema; watch it live."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agentnexus.core.errors import ApplicationError
from marketplace.models import Agent
from payments.selectors import runs_left
from runtime.forms import RunInputForm
from runtime.selectors import run_list_for_user, run_visible_to
from runtime.services import run_availability_check, run_cancel, run_start, version_secrets

HISTORY = 10


@login_required
def run_new(request: HttpRequest, slug: str) -> HttpResponse:
    agent = get_object_or_404(Agent.objects.select_related("current_version"), slug=slug)
    version = agent.current_version
    if version is None:
        raise Http404
    form = RunInputForm(
        request.POST if request.method == "POST" else None,
        schema=version.input_schema,
        example=version.example_input,
        secrets=version_secrets(version),
    )
    if request.method == "POST" and form.is_valid():
        try:
            run, _ = run_start(
                user=request.user,
                agent=agent,
                data=form.input_data(),
                secrets=form.secrets_data(),
                request=request,
            )
        except ApplicationError as exc:
            if exc.fields:
                form.add_input_errors(exc.fields)
            else:
                form.add_error(None, exc.message)
        else:
            return redirect("runtime:run_detail", run_id=run.public_id)
    history = run_list_for_user(user=request.user, agent_slug=agent.slug)[:HISTORY]
    paid = version.price > 0
    try:
        run_availability_check(agent=agent, version=version)
        unavailable = ""
    except ApplicationError as exc:
        unavailable = exc.message
    return render(
        request,
        "runtime/run_new.html",
        {
            "agent": agent,
            "version": version,
            "form": form,
            "history": history,
            "paid": paid,
            "unavailable": unavailable,
            "runs_left": runs_left(user=request.user, agent=agent) if paid else None,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def run_detail(request: HttpRequest, run_id) -> HttpResponse:
    run = run_visible_to(user=request.user, public_id=run_id)
    if run is None:
        raise Http404
    history = run_list_for_user(user=run.user, agent_slug=run.agent.slug)[:HISTORY]
    return render(
        request,
        "runtime/run_detail.html",
        {"run": run, "agent": run.agent, "history": history, "events": run.events.order_by("seq")},
    )


@login_required
@require_POST
def run_cancel_view(request: HttpRequest, run_id) -> HttpResponse:
    run = run_visible_to(user=request.user, public_id=run_id)
    if run is None:
        raise Http404
    try:
        run_cancel(run=run, by=request.user)
        messages.success(request, "The run was canceled.")
    except ApplicationError as exc:
        messages.info(request, exc.message)
    return redirect("runtime:run_detail", run_id=run.public_id)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    runs = run_list_for_user(user=request.user)[:100]
    return render(request, "runtime/run_list.html", {"runs": runs})

"""Celery tasks for runs: thin wrappers around runtime.services, taking ids, idempotent."""

from __future__ import annotations

import socket

from celery import shared_task

from runtime.backends.base import InfrastructureError
from runtime.services import (
    run_execute,
    run_fail_infrastructure,
    runs_admit,
    runs_reap,
    runs_stop_for_suspended_agent,
)

MAX_INFRA_RETRIES = 3


@shared_task(name="runtime.dispatch_runs", ignore_result=True)
def dispatch_runs(agent_id: int) -> None:
    runs_admit(agent_id=agent_id)


@shared_task(
    name="runtime.execute_run",
    bind=True,
    ignore_result=True,
    # A run is executed at most once: if the worker dies mid-run the reaper ends it as worker
    # lost (and settlement refunds it); redelivering it would run the agent a second time.
    acks_late=False,
    max_retries=MAX_INFRA_RETRIES,
)
def execute_run(self, run_id: int) -> None:
    worker = f"{socket.gethostname()}:{self.request.hostname or 'local'}"
    try:
        run_execute(run_id=run_id, worker=worker)
    except InfrastructureError as exc:
        # Only the platform's own transient failures (Docker API unavailable) are retried.
        if self.request.retries >= MAX_INFRA_RETRIES:
            run_fail_infrastructure(run_id=run_id, message=f"Docker is unavailable: {exc}")
            return
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc


@shared_task(name="runtime.reap_runs", ignore_result=True)
def reap_runs() -> None:
    runs_reap()


@shared_task(name="runtime.stop_suspended_agent_runs", ignore_result=True)
def stop_suspended_agent_runs(agent_id: int) -> None:
    """After a suspension commits: end the agent's queued and running runs (refunded).
    Idempotent; does nothing once the agent is no longer suspended."""
    runs_stop_for_suspended_agent(agent_id=agent_id)

"""Celery tasks for submissions: thin wrappers around agents.services, taking ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from agents.services import (
    agent_list_on_chain as agent_list_on_chain_service,
)
from agents.services import (
    submission_fail_infrastructure,
    submission_image_remove,
    submission_pipeline_step,
    submissions_recover,
)
from runtime.backends.base import InfrastructureError

MAX_INFRA_RETRIES = 3


@shared_task(
    name="agents.pipeline_step", bind=True, ignore_result=True, max_retries=MAX_INFRA_RETRIES
)
def pipeline_step(self, submission_id: int) -> None:
    """Run the submission's current step (build, scan or smoke test); on success the step enqueues
    the next one after commit. A redelivered task finds the step done or held and does nothing."""
    try:
        submission_pipeline_step(submission_id=submission_id)
    except InfrastructureError as exc:
        # Only Docker being unavailable is retried; the agent's own failures end the submission.
        if self.request.retries >= MAX_INFRA_RETRIES:
            submission_fail_infrastructure(
                submission_id=submission_id, message=f"Docker is unavailable: {exc}"
            )
            return
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 2)) from exc


@shared_task(name="agents.list_on_chain", bind=True, ignore_result=True, max_retries=5)
def agent_list_on_chain(self, agent_id: int) -> None:
    """Register an approved agent's current version on the contracts (idempotent: ensure_agent
    sends only what the chain lacks)."""
    from payments.chain.client import ChainError, ContractRevert

    try:
        agent_list_on_chain_service(agent_id=agent_id)
    except ContractRevert:
        raise  # the contract refused: not transient, retrying would only repeat it
    except ChainError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 3)) from exc


@shared_task(name="agents.recover_submissions", ignore_result=True)
def recover_submissions() -> None:
    """Beat: enqueue again the steps whose worker or task was lost (agents.services)."""
    submissions_recover()


@shared_task(name="agents.remove_submission_image", bind=True, ignore_result=True, max_retries=3)
def remove_submission_image(self, submission_id: int) -> None:
    """Delete a failed or rejected submission's image; Docker being down is retried."""
    try:
        submission_image_remove(submission_id=submission_id)
    except InfrastructureError as exc:
        raise self.retry(exc=exc, countdown=60) from exc

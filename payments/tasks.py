"""Payments beat tasks (thin): read the chain's events, reconcile the database with the chain.

Both take an optional deployment id (beat passes none: the active deployment of settings.CHAIN_ID)
and run one at a time per deployment under a Redis lock (django cache `add`). Both are idempotent:
the indexer ingests each log once, reconciliation only repairs what the chain explains. A node
that cannot be reached is logged and left to the next tick. Settlement tasks live in
payments/tasks_settlement.py.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from payments.chain.client import ChainError, ContractRevert
from payments.indexer import chain_index
from payments.reconcile import payments_reconcile
from payments.services import chain_deployment_active

logger = logging.getLogger(__name__)

# A lock outlives a worker killed while holding it by at most this long.
INDEX_LOCK_SECONDS = 120
RECONCILE_LOCK_SECONDS = 600


@contextlib.contextmanager
def _single_flight(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True if this process took the lock `name` (False: another one holds it)."""
    key = f"payments:lock:{name}"
    token = uuid.uuid4().hex
    acquired = cache.add(key, token, timeout=timeout)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)


def _deployment_id(deployment_id: int | None) -> int | None:
    if deployment_id is not None:
        return deployment_id
    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    return deployment.pk if deployment else None


@shared_task(name="payments.index_chain", ignore_result=True)
def index_chain(deployment_id: int | None = None) -> None:
    deployment_id = _deployment_id(deployment_id)
    if deployment_id is None:
        return
    with _single_flight(f"index:{deployment_id}", timeout=INDEX_LOCK_SECONDS) as acquired:
        if not acquired:
            return
        try:
            chain_index(deployment_id=deployment_id)
        except ChainError as exc:
            logger.warning("indexing deployment %s: %s", deployment_id, exc)


@shared_task(name="payments.reconcile", ignore_result=True)
def reconcile(deployment_id: int | None = None) -> None:
    deployment_id = _deployment_id(deployment_id)
    if deployment_id is None:
        return
    with _single_flight(f"reconcile:{deployment_id}", timeout=RECONCILE_LOCK_SECONDS) as acquired:
        if not acquired:
            return
        try:
            report = payments_reconcile(deployment_id=deployment_id)
        except ChainError as exc:
            logger.warning("reconciling deployment %s: %s", deployment_id, exc)
            return
    if report.settlements_requeued:
        from payments.tasks_settlement import settle_due

        settle_due.delay()


@shared_task(name="payments.sync_agent_on_chain", bind=True, ignore_result=True, max_retries=5)
def sync_agent_on_chain(self, agent_id: int) -> None:
    """Bring the contracts in line with an agent after a status change: its listing first
    (developer address and price, which may have changed meanwhile, or a first registration),
    then its active flag (deprecated/suspended = inactive). Idempotent."""
    from marketplace.models import Agent
    from payments.services import chain_agent_list, chain_agent_sync_status

    agent = Agent.objects.select_related("current_version", "developer").filter(pk=agent_id).first()
    if agent is None:
        return
    try:
        chain_agent_list(agent=agent, log=logger.info)
        chain_agent_sync_status(agent=agent, log=logger.info)
    except ContractRevert:
        raise  # the contract refused: not transient, retrying would only repeat it
    except ChainError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 3)) from exc

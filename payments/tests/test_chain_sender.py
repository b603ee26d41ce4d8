"""The orchestrator's key sources, error classification, and the settlement retry schedule."""

from __future__ import annotations

import json

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from eth_account import Account

from marketplace.tests.factories import UserFactory
from payments.chain.client import ChainError, ContractRevert
from payments.chain.keys import _keystore_cache, orchestrator_key
from payments.chain.sender import TransientChainError, classify
from payments.models import PaymentAlert, Settlement, SettlementStatus
from payments.settlement import BACKOFF_SECONDS, SLOW_RETRY_SECONDS, settlements_send
from payments.tests.paid_env import buy
from runtime.services import run_start


def test_orchestrator_key_from_an_encrypted_keystore(tmp_path, settings):
    account = Account.create()
    path = tmp_path / "orchestrator.json"
    path.write_text(json.dumps(Account.encrypt(account.key, "correct horse")))
    settings.CHAIN_ORCHESTRATOR_KEY = ""
    settings.CHAIN_ORCHESTRATOR_KEYSTORE = str(path)
    settings.CHAIN_ORCHESTRATOR_KEYSTORE_PASSWORD = "correct horse"
    _keystore_cache.clear()
    assert Account.from_key(orchestrator_key()).address == account.address
    _keystore_cache.clear()
    settings.CHAIN_ORCHESTRATOR_KEYSTORE_PASSWORD = "wrong"
    with pytest.raises(ImproperlyConfigured) as caught:
        orchestrator_key()
    assert "wrong" not in str(caught.value) and account.key.hex() not in str(caught.value)
    _keystore_cache.clear()


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (requests.exceptions.ConnectionError("refused"), True),
        (requests.exceptions.ReadTimeout("slow"), True),
        (ValueError({"code": -32000, "message": "nonce too low"}), True),
        (ValueError({"code": -32000, "message": "replacement transaction underpriced"}), True),
        (ContractRevert("RunAlreadySettled", (b"x",)), False),
        (ValueError("insufficient funds for gas"), False),
    ],
)
def test_errors_are_classified(error, transient):
    result = classify(error)
    assert isinstance(result, ChainError)
    assert isinstance(result, TransientChainError) is transient


@pytest.mark.django_db(transaction=True)
def test_retries_follow_the_schedule_then_alert(paid_market, settings):
    user = UserFactory()
    buy(paid_market, user, paid_market["paid-echo"], 1)
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0
    run, _ = run_start(user=user, agent=paid_market["paid-echo"], data={"name": "x"})
    from runtime.services import runs_admit

    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # the node is down for good
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 10
    runs_admit(agent_id=paid_market["paid-echo"].pk)
    settlement = Settlement.objects.get(run=run)
    delays = []
    for _ in range(len(BACKOFF_SECONDS) + 2):
        settlement.refresh_from_db()
        assert settlement.status == SettlementStatus.PENDING, "never dropped"
        delays.append(round((settlement.next_attempt_at - timezone.now()).total_seconds()))
        Settlement.objects.filter(pk=settlement.pk).update(next_attempt_at=timezone.now())
        settlements_send()
    assert delays[: len(BACKOFF_SECONDS)] == list(BACKOFF_SECONDS)
    assert delays[len(BACKOFF_SECONDS)] == SLOW_RETRY_SECONDS
    alert = PaymentAlert.objects.get(key=f"settlement:{settlement.pk}", resolved=False)
    assert alert.kind == "settlement_stuck"

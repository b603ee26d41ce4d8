"""Attacks on the escrow: re-entrancy (ERC-20 and ETH receivers), fee-on-transfer tokens, double
settlement, settling what does not exist, and keeping both the money and transferred units."""

from __future__ import annotations

import pytest

from payments.chain.client import selector
from payments.tests.chain_env import (
    AGENT,
    ETH,
    ETH_PRICE,
    TOKEN_PRICE,
    TTL,
    ChainEnv,
    reverts,
)

GUARD_ERROR = selector("ReentrancyGuardReentrantCall()")
AGENT2 = 2


def calldata(contract, name: str, *args) -> bytes:
    return bytes.fromhex(contract.encode_abi(name, args=list(args))[2:])


def escrow_total(env: ChainEnv, token: str) -> int:
    """Σ unsettled × price over every payment in `token`: what the escrow must hold."""
    total = 0
    for payment_id in range(1, env.mp.last_payment_id() + 1):
        p = env.payment(payment_id)
        if p.token == token:
            total += p.unsettled * p.price
    return total


def assert_invariant(env: ChainEnv, token: str) -> None:
    assert env.balance(token, env.escrow.address) == escrow_total(env, token)


# --------------------------------------------------------------------------------- fee on transfer


def test_fee_on_transfer_token_is_rejected(env: ChainEnv):
    fot = env.fot.address
    with reverts("TokenAmountMismatch", fot, TOKEN_PRICE, TOKEN_PRICE * 99 // 100):
        env.buy(1, token=fot)
    assert env.mp.last_payment_id() == 0
    assert env.balance(fot, env.escrow.address) == 0


# --------------------------------------------------------------------------------- re-entering ERC-20


@pytest.mark.parametrize("bubble", [True, False])
def test_reentrant_token_cannot_reenter_purchase(env: ChainEnv, bubble):
    reent = env.reent
    attack = calldata(env.escrow, "purchase", AGENT, reent.address, 1)
    env.send(reent.functions.arm(env.escrow.address, attack, bubble), env.acct.stranger)
    if bubble:
        with reverts("ReentrancyGuardReentrantCall"):
            env.buy(1, token=reent.address)
        assert env.mp.last_payment_id() == 0
    else:
        env.buy(1, token=reent.address)
        assert env.mp.last_payment_id() == 1
        assert env.call(reent.functions.attempts()) == 1
        assert not env.call(reent.functions.lastSucceeded())
        assert env.call(reent.functions.lastReturnData()) == GUARD_ERROR
    assert_invariant(env, reent.address)


@pytest.mark.parametrize("bubble", [True, False])
def test_reentrant_token_cannot_double_release(env: ChainEnv, bubble):
    """Even holding the orchestrator role, the token's re-entry into release() during the
    developer payout is stopped by the guard: one run is paid, once."""
    a, reent = env.acct, env.reent
    payment = env.buy(3, token=reent.address).payment_id
    env.grant_orchestrator(reent.address)
    ref, second = env.ref(), env.ref()
    for attack in (
        calldata(env.escrow, "release", payment, ref),  # the same run again
        calldata(env.escrow, "release", payment, second),  # another run, inside the first
    ):
        env.send(reent.functions.arm(env.escrow.address, attack, bubble), a.stranger)
        dev_before = env.balance(reent.address, a.developer)
        if bubble:
            with reverts("ReentrancyGuardReentrantCall"):
                env.mp.release(payment, ref, key=a.keys[1])
            assert env.payment(payment).unsettled == 3
            assert env.balance(reent.address, a.developer) == dev_before
        else:
            env.mp.release(payment, ref, key=a.keys[1])
            assert env.call(reent.functions.lastReturnData()) == GUARD_ERROR
            assert env.payment(payment).unsettled == 2
            assert env.balance(reent.address, a.developer) - dev_before == TOKEN_PRICE * 7 // 10
            break  # `ref` is settled now; the second attack would only repeat RunAlreadySettled
        assert_invariant(env, reent.address)
    assert not env.mp.is_run_settled(second)
    assert_invariant(env, reent.address)


def test_reentrant_token_cannot_reclaim_during_refund(env: ChainEnv):
    a, reent = env.acct, env.reent
    payment = env.buy(2, token=reent.address).payment_id
    env.client.increase_time(TTL)
    env.send(
        reent.functions.arm(env.escrow.address, calldata(env.escrow, "reclaim", payment), False),
        a.stranger,
    )
    buyer_before = env.balance(reent.address, a.buyer)
    env.mp.refund(payment, env.ref(), key=a.keys[1])
    assert env.call(reent.functions.lastReturnData()) == GUARD_ERROR
    assert env.balance(reent.address, a.buyer) - buyer_before == TOKEN_PRICE
    assert env.payment(payment).unsettled == 1
    assert_invariant(env, reent.address)


# --------------------------------------------------------------------------------- re-entering ETH receivers


@pytest.fixture
def receiver(env: ChainEnv):
    return env.deploy("ReentrantReceiver")


def register_contract_developer(env: ChainEnv, developer: str) -> None:
    env.mp.register_agent(AGENT2, developer, prices={ETH: ETH_PRICE}, key=env.acct.keys[0])


@pytest.mark.parametrize("bubble", [True, False])
def test_reentrant_developer_cannot_double_release(env: ChainEnv, receiver, bubble):
    a = env.acct
    register_contract_developer(env, receiver.address)
    payment = env.buy(3, agent=AGENT2).payment_id
    env.grant_orchestrator(receiver.address)
    ref = env.ref()
    attack = calldata(env.escrow, "release", payment, ref)
    env.send(receiver.functions.arm(env.escrow.address, attack, bubble), a.stranger)
    if bubble:
        # The receiver's revert makes the ETH transfer fail; nothing is settled.
        with reverts("EthTransferFailed", receiver.address, ETH_PRICE * 7 // 10):
            env.mp.release(payment, ref, key=a.keys[1])
        assert env.payment(payment).unsettled == 3
        assert env.client.balance(receiver.address) == 0
    else:
        env.mp.release(payment, ref, key=a.keys[1])
        assert env.call(receiver.functions.lastReturnData()) == GUARD_ERROR
        assert env.payment(payment).unsettled == 2
        assert env.client.balance(receiver.address) == ETH_PRICE * 7 // 10
    assert_invariant(env, ETH)


def test_reentrant_developer_cannot_reclaim_or_purchase_during_release(env: ChainEnv, receiver):
    a = env.acct
    register_contract_developer(env, receiver.address)
    payment = env.buy(3, agent=AGENT2).payment_id
    env.client.increase_time(TTL // 2)
    attacks = (
        calldata(env.escrow, "reclaim", payment),
        calldata(env.escrow, "refund", payment, env.ref()),
        calldata(env.escrow, "purchase", AGENT2, ETH, 1),
    )
    for number, attack in enumerate(attacks, start=1):
        env.send(receiver.functions.arm(env.escrow.address, attack, False), a.stranger)
        env.mp.release(payment, env.ref(), key=a.keys[1])
        assert env.call(receiver.functions.attempts()) == number
        assert env.call(receiver.functions.lastReturnData()) == GUARD_ERROR
    assert env.payment(payment).unsettled == 0
    assert env.mp.last_payment_id() == payment
    assert env.client.balance(receiver.address) == 3 * (ETH_PRICE * 7 // 10)
    assert_invariant(env, ETH)


@pytest.mark.parametrize("bubble", [True, False])
def test_reentrant_buyer_cannot_double_refund(env: ChainEnv, receiver, bubble):
    """A contract buyer re-entering refund()/reclaim() from its receive() gets nothing extra."""
    a, e = env.acct, env.escrow
    env.send(
        receiver.functions.execute(e.address, calldata(e, "purchase", AGENT, ETH, 3)),
        a.stranger,
        value=3 * ETH_PRICE,
    )
    payment = env.mp.last_payment_id()
    assert env.units(receiver.address) == 3
    env.grant_orchestrator(receiver.address)
    env.client.increase_time(TTL)
    ref = env.ref()
    for attack in (calldata(e, "refund", payment, ref), calldata(e, "reclaim", payment)):
        env.send(receiver.functions.arm(e.address, attack, bubble), a.stranger)
        before = env.client.balance(receiver.address)
        if bubble:
            with reverts("EthTransferFailed", receiver.address, ETH_PRICE):
                env.mp.refund(payment, ref, key=a.keys[1])
            assert env.payment(payment).unsettled == 3
        else:
            env.mp.refund(payment, env.ref(), key=a.keys[1])
            assert env.call(receiver.functions.lastReturnData()) == GUARD_ERROR
            assert env.client.balance(receiver.address) - before == ETH_PRICE
        assert_invariant(env, ETH)
    assert env.units(receiver.address) == env.payment(payment).unsettled


def test_reentrant_buyer_cannot_reenter_from_the_mint_callback(env: ChainEnv, receiver):
    a, e = env.acct, env.escrow
    env.send(
        receiver.functions.arm(e.address, calldata(e, "purchase", AGENT, ETH, 1), True), a.stranger
    )
    with reverts("ReentrancyGuardReentrantCall"):
        env.send(
            receiver.functions.execute(e.address, calldata(e, "purchase", AGENT, ETH, 1)),
            a.stranger,
            value=ETH_PRICE,
        )
    assert env.mp.last_payment_id() == 0


def test_developer_rejecting_eth_blocks_only_its_releases(env: ChainEnv, receiver):
    a = env.acct
    register_contract_developer(env, receiver.address)
    env.send(receiver.functions.setRejectEth(True), a.stranger)
    payment = env.buy(3, agent=AGENT2).payment_id
    with reverts("EthTransferFailed", receiver.address, ETH_PRICE * 7 // 10):
        env.mp.release(payment, env.ref(), key=a.keys[1])
    env.mp.refund(payment, env.ref(), key=a.keys[1])  # the buyer is never stuck
    env.admin(env.escrow.functions.setDeveloper(AGENT2, a.developer2))
    env.mp.release(payment, env.ref(), key=a.keys[1])
    assert env.payment(payment).unsettled == 1
    assert_invariant(env, ETH)


# --------------------------------------------------------------------------------- bad settlements


def test_settling_unknown_payments_extra_runs_or_expired_payments_reverts(env: ChainEnv):
    a = env.acct
    purchase = env.buy(2)
    payment = purchase.payment_id
    with reverts("UnknownPayment", payment + 1):
        env.mp.release(payment + 1, env.ref(), key=a.keys[1])
    with reverts("UnknownPayment", 0):
        env.mp.refund(0, env.ref(), key=a.keys[1])
    with reverts("InsufficientUnsettledRuns", payment, 3, 2):
        env.mp.release_batch([(payment, env.ref()) for _ in range(3)], key=a.keys[1])
    env.mp.release_batch([(payment, env.ref()) for _ in range(2)], key=a.keys[1])
    with reverts("InsufficientUnsettledRuns", payment, 1, 0):
        env.mp.refund(payment, env.ref(), key=a.keys[1])
    late = env.buy(1)
    env.client.increase_time(TTL)
    with reverts("PaymentExpired", late.payment_id, late.expires_at):
        env.mp.release(late.payment_id, env.ref(), key=a.keys[1])
    assert_invariant(env, ETH)


def test_a_run_settles_once_ever(env: ChainEnv):
    a = env.acct
    first, second = env.buy(3).payment_id, env.buy(3, buyer=a.buyer2).payment_id
    ref = env.ref()
    env.mp.release(first, ref, key=a.keys[1])
    for settle in (
        lambda: env.mp.release(first, ref, key=a.keys[1]),
        lambda: env.mp.refund(first, ref, key=a.keys[1]),
        lambda: env.mp.release(second, ref, key=a.keys[1]),  # on another payment too
        lambda: env.mp.refund_batch([(second, env.ref()), (second, ref)], key=a.keys[1]),
    ):
        with reverts("RunAlreadySettled", ref):
            settle()
    assert env.payment(first).unsettled == 2 and env.payment(second).unsettled == 3
    assert_invariant(env, ETH)


def test_buyer_cannot_keep_both_transferred_units_and_the_money(env: ChainEnv):
    a, ent = env.acct, env.entitlements.functions
    env.admin(ent.setTransferable(AGENT, True))
    purchase = env.buy(2)
    env.send(ent.safeTransferFrom(a.buyer, a.buyer2, AGENT, 2, b""), a.buyer)
    env.client.increase_time(TTL)
    with reverts("ERC1155InsufficientBalance", a.buyer, 0, 2, AGENT):
        env.mp.reclaim(purchase.payment_id, key=a.keys[5])
    # The orchestrator can still return the money, burning the units where they are now.
    buyer_before = env.balance(ETH, a.buyer)
    for _ in range(2):
        env.orch(env.escrow.functions.refundFrom(purchase.payment_id, env.ref(), a.buyer2))
    assert env.balance(ETH, a.buyer) - buyer_before == 2 * ETH_PRICE
    assert env.units(a.buyer2) == 0
    assert_invariant(env, ETH)

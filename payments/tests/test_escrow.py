"""AgentNexusEscrow: every function's happy path and every revert reason, roles and pause rules."""

from __future__ import annotations

import pytest

from payments.chain.client import (
    DEFAULT_ADMIN_ROLE,
    MINTER_ROLE,
    ORCHESTRATOR_ROLE,
    PAUSER_ROLE,
    ZERO_ADDRESS,
)
from payments.chain.marketplace import run_ref
from payments.tests.chain_env import (
    AGENT,
    ETH,
    ETH_PRICE,
    FEE_BPS,
    TTL,
    USDC_PRICE,
    ChainEnv,
    reverts,
)

DEV_SHARE = ETH_PRICE * (10_000 - FEE_BPS) // 10_000
FEE_SHARE = ETH_PRICE - DEV_SHARE


def split(price: int, fee_bps: int = FEE_BPS) -> tuple[int, int]:
    fee = price * fee_bps // 10_000
    return price - fee, fee


# --------------------------------------------------------------------------------- construction


def test_constructor_state(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    assert env.call(e.entitlements()) == env.entitlements.address
    assert env.call(e.paymentTtl()) == TTL
    assert env.call(e.platformFeeBps()) == FEE_BPS
    assert env.call(e.MAX_FEE_BPS()) == 3000
    assert env.call(e.feeRecipient()) == a.fee_recipient
    assert env.call(e.lastPaymentId()) == 0
    assert env.call(e.tokenConfig(ETH)) == (True, True, 0)
    assert env.call(e.tokenAt(1)) == env.usdc.address
    assert env.call(e.tokenCount()) == 4  # ETH, mUSDC, and the two attack tokens of the suite
    assert env.call(e.hasRole(DEFAULT_ADMIN_ROLE, a.admin))
    assert env.call(e.hasRole(ORCHESTRATOR_ROLE, a.orchestrator))
    assert env.call(e.hasRole(PAUSER_ROLE, a.pauser))
    assert not env.call(e.hasRole(ORCHESTRATOR_ROLE, a.admin))


@pytest.mark.parametrize(
    ("overrides", "error", "args"),
    [
        ({"admin": ZERO_ADDRESS}, "ZeroAddress", ()),
        ({"entitlements": ZERO_ADDRESS}, "ZeroAddress", ()),
        ({"fee_recipient": ZERO_ADDRESS}, "ZeroAddress", ()),
        ({"fee": 3001}, "FeeTooHigh", (3001, 3000)),
        ({"ttl": 0}, "InvalidPaymentTtl", (0,)),
        ({"ttl": 3650 * 86400 + 1}, "InvalidPaymentTtl", (3650 * 86400 + 1,)),
    ],
)
def test_constructor_rejects(env: ChainEnv, overrides, error, args):
    params = {
        "admin": env.acct.admin,
        "entitlements": env.entitlements.address,
        "fee_recipient": env.acct.fee_recipient,
        "fee": 100,
        "ttl": 3600,
    } | overrides
    with reverts(error, *args):
        env.deploy("AgentNexusEscrow", *params.values())


# --------------------------------------------------------------------------------- purchase


def test_purchase_eth_records_payment_mints_and_emits(env: ChainEnv):
    a = env.acct
    escrow_before = env.balance(ETH, env.escrow.address)
    purchase = env.buy(3)
    receipt = purchase.receipt
    timestamp = env.client.w3.eth.get_block(receipt["blockNumber"])["timestamp"]

    assert purchase.payment_id == 1
    assert env.balance(ETH, env.escrow.address) - escrow_before == 3 * ETH_PRICE
    assert env.units(a.buyer) == 3
    assert env.mp.has_access(a.buyer, AGENT)
    p = env.payment(1)
    assert (p.buyer, p.agent_id, p.token, p.price) == (a.buyer, AGENT, ETH, ETH_PRICE)
    assert (p.runs, p.unsettled, p.fee_bps, p.expires_at) == (3, 3, FEE_BPS, timestamp + TTL)
    (event,) = env.events(env.escrow, "PaymentCreated", receipt)
    assert event == {
        "paymentId": 1,
        "buyer": a.buyer,
        "agentId": AGENT,
        "token": ETH,
        "runs": 3,
        "price": ETH_PRICE,
        "amount": 3 * ETH_PRICE,
        "feeBps": FEE_BPS,
        "expiresAt": timestamp + TTL,
    }
    (mint,) = env.events(env.entitlements, "TransferSingle", receipt)
    assert (mint["from"], mint["to"], mint["id"], mint["value"]) == (
        ZERO_ADDRESS,
        a.buyer,
        AGENT,
        3,
    )


def test_purchase_erc20_pulls_exact_amount(env: ChainEnv):
    a, usdc = env.acct, env.usdc.address
    buyer_before = env.balance(usdc, a.buyer)
    purchase = env.buy(10, token=usdc)
    assert purchase.amount == 10 * USDC_PRICE
    assert env.balance(usdc, a.buyer) == buyer_before - 10 * USDC_PRICE
    assert env.balance(usdc, env.escrow.address) == 10 * USDC_PRICE
    assert env.units(a.buyer) == 10
    assert env.payment(purchase.payment_id).token == usdc


def test_payment_ids_are_sequential(env: ChainEnv):
    ids = [
        env.buy(1, buyer=b).payment_id for b in (env.acct.buyer, env.acct.buyer2, env.acct.buyer)
    ]
    assert ids == [1, 2, 3]
    assert env.call(env.escrow.functions.lastPaymentId()) == 3
    assert not env.payment(4).exists


def test_purchase_reverts(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    buyer = a.buyer
    with reverts("ZeroRuns"):
        env.send(e.purchase(AGENT, ETH, 0), buyer)
    with reverts("TooManyRuns", 2**32):
        env.send(e.purchase(AGENT, ETH, 2**32), buyer)
    with reverts("TokenNotAllowed", a.stranger):
        env.send(e.purchase(AGENT, a.stranger, 1), buyer)
    with reverts("NotForSale", 99, ETH):
        env.send(e.purchase(99, ETH, 1), buyer)
    with reverts("IncorrectEthAmount", 2 * ETH_PRICE, ETH_PRICE):
        env.send(e.purchase(AGENT, ETH, 2), buyer, value=ETH_PRICE)
    with reverts("IncorrectEthAmount", ETH_PRICE, ETH_PRICE + 1):
        env.send(e.purchase(AGENT, ETH, 1), buyer, value=ETH_PRICE + 1)
    with reverts("IncorrectEthAmount", 0, 1):
        env.send(e.purchase(AGENT, env.usdc.address, 1), buyer, value=1)
    # ERC-20 without allowance: the token's own error surfaces.
    env.send(env.usdc.functions.approve(env.escrow.address, 0), buyer)
    with reverts("ERC20InsufficientAllowance", env.escrow.address, 0, USDC_PRICE):
        env.send(e.purchase(AGENT, env.usdc.address, 1), buyer)
    assert env.call(e.lastPaymentId()) == 0


def test_purchase_needs_an_active_agent_in_entitlements(env: ChainEnv):
    env.admin(env.entitlements.functions.setAgentActive(AGENT, False))
    with reverts("AgentNotActive", AGENT):
        env.buy(1)


def test_purchase_respects_max_supply(env: ChainEnv):
    env.admin(env.entitlements.functions.setMaxSupply(AGENT, 5))
    with reverts("MaxSupplyExceeded", AGENT, 5, 6):
        env.buy(6)
    payment = env.buy(5).payment_id
    env.mp.refund(payment, env.ref(), key=env.acct.keys[1])
    # The cap counts units ever minted, so a refund does not free one.
    with reverts("MaxSupplyExceeded", AGENT, 5, 6):
        env.buy(1)


def test_price_and_fee_are_snapshotted_at_purchase(env: ChainEnv):
    a = env.acct
    payment = env.buy(2).payment_id
    env.mp.set_price(AGENT, ETH, 5 * ETH_PRICE, key=a.keys[0])
    env.admin(env.escrow.functions.setPlatformFee(1000))
    dev_before = env.balance(ETH, a.developer)
    fee_before = env.balance(ETH, a.fee_recipient)
    env.mp.release(payment, env.ref(), key=a.keys[1])
    assert env.balance(ETH, a.developer) - dev_before == DEV_SHARE
    assert env.balance(ETH, a.fee_recipient) - fee_before == FEE_SHARE
    # New purchases use the new price and fee.
    newer = env.buy(1)
    assert newer.amount == 5 * ETH_PRICE
    assert env.payment(newer.payment_id).fee_bps == 1000


# --------------------------------------------------------------------------------- release


@pytest.mark.parametrize("token_name", ["eth", "usdc"])
def test_release_pays_developer_and_fee(env: ChainEnv, token_name):
    a = env.acct
    token, price = (ETH, ETH_PRICE) if token_name == "eth" else (env.usdc.address, USDC_PRICE)
    payment = env.buy(2, token=token).payment_id
    dev_share, fee_share = split(price)
    before = {who: env.balance(token, who) for who in (a.developer, a.fee_recipient)}
    escrow_before = env.balance(token, env.escrow.address)
    ref = env.ref()

    receipt = env.mp.release(payment, ref, key=a.keys[1])

    assert env.balance(token, a.developer) - before[a.developer] == dev_share
    assert env.balance(token, a.fee_recipient) - before[a.fee_recipient] == fee_share
    assert escrow_before - env.balance(token, env.escrow.address) == price
    assert env.units(a.buyer) == 1
    assert env.payment(payment).unsettled == 1
    assert env.mp.is_run_settled(ref)
    (event,) = env.events(env.escrow, "RunReleased", receipt)
    assert event == {
        "paymentId": payment,
        "runRef": ref,
        "developer": a.developer,
        "developerAmount": dev_share,
        "fee": fee_share,
    }
    (burn,) = env.events(env.entitlements, "TransferSingle", receipt)
    assert (burn["from"], burn["to"], burn["value"]) == (a.buyer, ZERO_ADDRESS, 1)


def test_fee_rounds_down_and_nothing_is_lost(env: ChainEnv):
    a = env.acct
    env.mp.set_price(AGENT, ETH, 999_999, key=a.keys[0])
    payment = env.buy(1).payment_id
    before = env.balance(ETH, a.developer), env.balance(ETH, a.fee_recipient)
    env.mp.release(payment, env.ref(), key=a.keys[1])
    assert env.balance(ETH, a.developer) - before[0] == 700_000
    assert env.balance(ETH, a.fee_recipient) - before[1] == 299_999


def test_zero_fee_pays_developer_everything(env: ChainEnv):
    a = env.acct
    env.admin(env.escrow.functions.setPlatformFee(0))
    payment = env.buy(1).payment_id
    dev_before, fee_before = env.balance(ETH, a.developer), env.balance(ETH, a.fee_recipient)
    receipt = env.mp.release(payment, env.ref(), key=a.keys[1])
    assert env.balance(ETH, a.developer) - dev_before == ETH_PRICE
    assert env.balance(ETH, a.fee_recipient) == fee_before
    assert env.events(env.escrow, "RunReleased", receipt)[0]["fee"] == 0


def test_release_reverts(env: ChainEnv):
    e, orch = env.escrow.functions, env.acct.orchestrator
    payment = env.buy(1).payment_id
    with reverts("UnknownPayment", 99):
        env.send(e.release(99, env.ref()), orch)
    with reverts("InvalidRunRef"):
        env.send(e.release(payment, b"\x00" * 32), orch)
    ref = env.ref()
    env.send(e.release(payment, ref), orch)
    with reverts("InsufficientUnsettledRuns", payment, 1, 0):
        env.send(e.release(payment, env.ref()), orch)
    second = env.buy(1).payment_id
    with reverts("RunAlreadySettled", ref):
        env.send(e.release(second, ref), orch)
    with reverts("RunAlreadySettled", ref):
        env.send(e.refund(second, ref), orch)


def test_release_stops_at_expiry_and_refund_does_not(env: ChainEnv):
    e, orch, client = env.escrow.functions, env.acct.orchestrator, env.client
    purchase = env.buy(3)
    expires = purchase.expires_at
    client.set_next_block_timestamp(expires - 1)
    env.send(e.release(purchase.payment_id, env.ref()), orch)  # last second: still allowed
    client.set_next_block_timestamp(expires)
    with reverts("PaymentExpired", purchase.payment_id, expires):
        env.send(e.release(purchase.payment_id, env.ref()), orch)
    env.send(e.refund(purchase.payment_id, env.ref()), orch)  # refund after expiry is fine
    assert env.payment(purchase.payment_id).unsettled == 1


# --------------------------------------------------------------------------------- refund


@pytest.mark.parametrize("token_name", ["eth", "usdc"])
def test_refund_returns_one_run_to_buyer(env: ChainEnv, token_name):
    a = env.acct
    token, price = (ETH, ETH_PRICE) if token_name == "eth" else (env.usdc.address, USDC_PRICE)
    payment = env.buy(2, token=token).payment_id
    buyer_before = env.balance(token, a.buyer)
    dev_before = env.balance(token, a.developer)
    ref = env.ref()
    receipt = env.mp.refund(payment, ref, key=a.keys[1])
    assert env.balance(token, a.buyer) - buyer_before == price
    assert env.balance(token, a.developer) == dev_before
    assert env.units(a.buyer) == 1
    assert env.payment(payment).unsettled == 1
    (event,) = env.events(env.escrow, "RunRefunded", receipt)
    assert event == {"paymentId": payment, "runRef": ref, "buyer": a.buyer, "amount": price}


def test_refund_reverts(env: ChainEnv):
    e, orch = env.escrow.functions, env.acct.orchestrator
    payment = env.buy(1).payment_id
    with reverts("UnknownPayment", 7):
        env.send(e.refund(7, env.ref()), orch)
    with reverts("InvalidRunRef"):
        env.send(e.refund(payment, b"\x00" * 32), orch)
    ref = env.ref()
    env.send(e.refund(payment, ref), orch)
    with reverts("InsufficientUnsettledRuns", payment, 1, 0):
        env.send(e.refund(payment, env.ref()), orch)
    with reverts("RunAlreadySettled", ref):
        env.send(e.refund(env.buy(1).payment_id, ref), orch)


# --------------------------------------------------------------------------------- holder variants


def test_release_from_and_refund_from_burn_the_holders_units(env: ChainEnv):
    a, e = env.acct, env.escrow.functions
    env.admin(env.entitlements.functions.setTransferable(AGENT, True))
    payment = env.buy(3).payment_id
    env.send(env.entitlements.functions.safeTransferFrom(a.buyer, a.buyer2, AGENT, 2, b""), a.buyer)
    dev_before, buyer_before = env.balance(ETH, a.developer), env.balance(ETH, a.buyer)
    env.orch(e.releaseFrom(payment, env.ref(), a.buyer2))
    env.orch(e.refundFrom(payment, env.ref(), a.buyer2))
    assert env.units(a.buyer2) == 0
    assert env.units(a.buyer) == 1
    assert env.balance(ETH, a.developer) - dev_before == DEV_SHARE
    assert env.balance(ETH, a.buyer) - buyer_before == ETH_PRICE  # money goes to the payer
    with reverts("ZeroAddress"):
        env.orch(e.releaseFrom(payment, env.ref(), ZERO_ADDRESS))
    with reverts("ZeroAddress"):
        env.orch(e.refundFrom(payment, env.ref(), ZERO_ADDRESS))
    with reverts("ERC1155InsufficientBalance", a.buyer2, 0, 1, AGENT):
        env.orch(e.releaseFrom(payment, env.ref(), a.buyer2))


# --------------------------------------------------------------------------------- batches


def test_release_batch_settles_many_runs_across_payments(env: ChainEnv):
    a, usdc = env.acct, env.usdc.address
    eth_payment = env.buy(4).payment_id
    usdc_payment = env.buy(3, token=usdc, buyer=a.buyer2).payment_id
    runs = [(eth_payment, env.ref()) for _ in range(3)] + [
        (usdc_payment, env.ref()) for _ in range(3)
    ]
    dev_eth, dev_usdc = env.balance(ETH, a.developer), env.balance(usdc, a.developer)
    fee_usdc = env.balance(usdc, a.fee_recipient)

    receipt = env.mp.release_batch(runs, key=a.keys[1])

    assert env.balance(ETH, a.developer) - dev_eth == 3 * DEV_SHARE
    usdc_dev, usdc_fee = split(USDC_PRICE)
    assert env.balance(usdc, a.developer) - dev_usdc == 3 * usdc_dev
    assert env.balance(usdc, a.fee_recipient) - fee_usdc == 3 * usdc_fee
    assert env.payment(eth_payment).unsettled == 1
    assert env.payment(usdc_payment).unsettled == 0
    assert env.units(a.buyer) == 1 and env.units(a.buyer2) == 0
    events = env.events(env.escrow, "RunReleased", receipt)
    assert [(ev["paymentId"], ev["runRef"]) for ev in events] == runs
    assert all(env.mp.is_run_settled(ref) for _, ref in runs)


def test_batch_handles_unsorted_payment_ids(env: ChainEnv):
    first, second = env.buy(2).payment_id, env.buy(2).payment_id
    ids = [first, second, first, second]
    refs = [env.ref() for _ in ids]
    env.orch(env.escrow.functions.releaseBatch(ids, refs))
    assert env.payment(first).unsettled == 0 and env.payment(second).unsettled == 0


def test_refund_batch(env: ChainEnv):
    a, usdc = env.acct, env.usdc.address
    payment = env.buy(5, token=usdc).payment_id
    before = env.balance(usdc, a.buyer)
    receipt = env.mp.refund_batch([(payment, env.ref()) for _ in range(4)], key=a.keys[1])
    assert env.balance(usdc, a.buyer) - before == 4 * USDC_PRICE
    assert env.units(a.buyer) == 1
    assert len(env.events(env.escrow, "RunRefunded", receipt)) == 4


@pytest.mark.parametrize("fn", ["releaseBatch", "refundBatch"])
def test_batch_reverts_and_is_atomic(env: ChainEnv, fn):
    batch = getattr(env.escrow.functions, fn)
    payment = env.buy(2).payment_id
    ref, other = env.ref(), env.ref()
    with reverts("EmptyBatch"):
        env.orch(batch([], []))
    with reverts("LengthMismatch", 2, 1):
        env.orch(batch([payment, payment], [ref]))
    with reverts("RunAlreadySettled", ref):
        env.orch(batch([payment, payment], [ref, ref]))
    with reverts("InsufficientUnsettledRuns", payment, 3, 2):
        env.orch(batch([payment] * 3, [ref, other, env.ref()]))
    with reverts("UnknownPayment", 42):
        env.orch(batch([payment, 42], [ref, other]))
    with reverts("InvalidRunRef"):
        env.orch(batch([payment], [b"\x00" * 32]))
    # Nothing above changed any state.
    assert env.payment(payment).unsettled == 2
    assert not env.mp.is_run_settled(ref)
    assert env.units(env.acct.buyer) == 2


def test_release_batch_rejects_expired_payments(env: ChainEnv):
    purchase = env.buy(2)
    env.client.set_next_block_timestamp(purchase.expires_at)
    with reverts("PaymentExpired", purchase.payment_id, purchase.expires_at):
        env.orch(env.escrow.functions.releaseBatch([purchase.payment_id], [env.ref()]))
    env.orch(env.escrow.functions.refundBatch([purchase.payment_id], [env.ref()]))


# --------------------------------------------------------------------------------- reclaim


@pytest.mark.parametrize("token_name", ["eth", "usdc"])
def test_reclaim_after_expiry_by_anyone(env: ChainEnv, token_name):
    a = env.acct
    token, price = (ETH, ETH_PRICE) if token_name == "eth" else (env.usdc.address, USDC_PRICE)
    purchase = env.buy(5, token=token)
    env.mp.release(purchase.payment_id, env.ref(), key=a.keys[1])
    env.mp.refund(purchase.payment_id, env.ref(), key=a.keys[1])
    with reverts("PaymentNotExpired", purchase.payment_id, purchase.expires_at):
        env.mp.reclaim(purchase.payment_id, key=a.keys[5])
    env.client.set_next_block_timestamp(purchase.expires_at)
    buyer_before = env.balance(token, a.buyer)
    receipt = env.mp.reclaim(purchase.payment_id, key=env.acct.key(a.stranger))
    assert env.balance(token, a.buyer) - buyer_before == 3 * price
    assert env.units(a.buyer) == 0
    assert env.payment(purchase.payment_id).unsettled == 0
    assert env.balance(token, env.escrow.address) == 0
    (event,) = env.events(env.escrow, "PaymentReclaimed", receipt)
    assert event == {
        "paymentId": purchase.payment_id,
        "buyer": a.buyer,
        "runs": 3,
        "amount": 3 * price,
    }
    with reverts("NothingToReclaim", purchase.payment_id):
        env.mp.reclaim(purchase.payment_id, key=a.keys[5])
    with reverts("UnknownPayment", 77):
        env.mp.reclaim(77, key=a.keys[5])


def test_reclaim_by_the_buyer_pays_only_gas(env: ChainEnv):
    a = env.acct
    purchase = env.buy(2)
    env.client.increase_time(TTL)
    before = env.balance(ETH, a.buyer)
    receipt = env.mp.reclaim(purchase.payment_id, key=a.keys[5])
    assert env.balance(ETH, a.buyer) == before + 2 * ETH_PRICE - env.eth_cost(receipt)


# --------------------------------------------------------------------------------- admin


def test_register_agent(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    receipt = env.admin(e.registerAgent(2, a.developer2))
    assert env.events(env.escrow, "AgentRegistered", receipt) == [
        {"agentId": 2, "developer": a.developer2}
    ]
    assert env.call(e.developerOf(2)) == a.developer2
    env.admin(e.registerAgent(2**64 - 1, a.developer2))
    with reverts("AgentIdTooLarge", 2**64):
        env.admin(e.registerAgent(2**64, a.developer2))
    with reverts("ZeroAddress"):
        env.admin(e.registerAgent(3, ZERO_ADDRESS))
    with reverts("AgentAlreadyRegistered", 2):
        env.admin(e.registerAgent(2, a.developer))


def test_set_developer_redirects_unsettled_releases(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    payment = env.buy(1).payment_id
    receipt = env.admin(e.setDeveloper(AGENT, a.developer2))
    assert env.events(env.escrow, "DeveloperSet", receipt) == [
        {"agentId": AGENT, "previousDeveloper": a.developer, "developer": a.developer2}
    ]
    before = env.balance(ETH, a.developer2)
    env.mp.release(payment, env.ref(), key=a.keys[1])
    assert env.balance(ETH, a.developer2) - before == DEV_SHARE
    with reverts("ZeroAddress"):
        env.admin(e.setDeveloper(AGENT, ZERO_ADDRESS))
    with reverts("AgentNotRegistered", 5):
        env.admin(e.setDeveloper(5, a.developer))


def test_set_price(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    receipt = env.admin(e.setPrice(AGENT, ETH, 123))
    assert env.events(env.escrow, "PriceSet", receipt) == [
        {"agentId": AGENT, "token": ETH, "price": 123}
    ]
    assert env.call(e.priceOf(AGENT, ETH)) == 123
    env.admin(e.setPrice(AGENT, ETH, 2**96 - 1))
    with reverts("PriceTooLarge", 2**96):
        env.admin(e.setPrice(AGENT, ETH, 2**96))
    with reverts("AgentNotRegistered", 5):
        env.admin(e.setPrice(5, ETH, 1))
    with reverts("TokenNotAllowed", a.stranger):
        env.admin(e.setPrice(AGENT, a.stranger, 1))
    env.admin(e.setPrice(AGENT, ETH, 0))
    with reverts("NotForSale", AGENT, ETH):
        env.buy(1)


def test_set_token_allowed(env: ChainEnv):
    e = env.escrow.functions
    usdc = env.usdc.address
    payment = env.buy(2, token=usdc).payment_id
    receipt = env.admin(e.setTokenAllowed(usdc, False))
    assert env.events(env.escrow, "TokenAllowed", receipt) == [
        {"token": usdc, "index": 1, "allowed": False}
    ]
    with reverts("TokenNotAllowed", usdc):
        env.buy(1, token=usdc)
    # Payments in a token that is no longer allowed still settle and reclaim.
    env.mp.release(payment, env.ref(), key=env.acct.keys[1])
    env.client.increase_time(TTL)
    env.mp.reclaim(payment, key=env.acct.keys[5])
    env.admin(e.setTokenAllowed(usdc, True))
    assert env.call(e.tokenConfig(usdc)) == (True, True, 1)  # same index again
    other = env.deploy("MockStablecoin")
    receipt = env.admin(e.setTokenAllowed(other.address, True))
    assert env.events(env.escrow, "TokenAllowed", receipt)[0]["index"] == 4
    assert env.call(e.tokenAt(4)) == other.address
    assert env.call(e.tokenCount()) == 5
    with reverts("NotAContract", env.acct.stranger):
        env.admin(e.setTokenAllowed(env.acct.stranger, True))


def test_set_token_allowed_stops_at_65535_tokens(env: ChainEnv):
    # _tokenCount is the only variable in storage slot 5 (see the storage layout test).
    env.client.set_storage(env.escrow.address, 5, 2**16 - 1)
    with reverts("TooManyTokens"):
        env.admin(env.escrow.functions.setTokenAllowed(env.deploy("MockStablecoin").address, True))


def test_set_platform_fee(env: ChainEnv):
    e = env.escrow.functions
    receipt = env.admin(e.setPlatformFee(3000))
    assert env.events(env.escrow, "PlatformFeeSet", receipt) == [
        {"previousFeeBps": FEE_BPS, "feeBps": 3000}
    ]
    env.admin(e.setPlatformFee(0))
    assert env.call(e.platformFeeBps()) == 0
    with reverts("FeeTooHigh", 3001, 3000):
        env.admin(e.setPlatformFee(3001))


def test_set_fee_recipient(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    payment = env.buy(1).payment_id
    receipt = env.admin(e.setFeeRecipient(a.developer2))
    assert env.events(env.escrow, "FeeRecipientSet", receipt) == [
        {"previousRecipient": a.fee_recipient, "recipient": a.developer2}
    ]
    before = env.balance(ETH, a.developer2)
    env.mp.release(payment, env.ref(), key=a.keys[1])
    assert env.balance(ETH, a.developer2) - before == FEE_SHARE
    with reverts("ZeroAddress"):
        env.admin(e.setFeeRecipient(ZERO_ADDRESS))


# --------------------------------------------------------------------------------- pause


def test_pause_stops_purchases_and_releases_only(env: ChainEnv):
    e, a = env.escrow.functions, env.acct
    payment = env.buy(6).payment_id
    receipt = env.send(e.pause(), a.pauser)
    assert env.events(env.escrow, "Paused", receipt) == [{"account": a.pauser}]
    assert env.call(e.paused())
    with reverts("EnforcedPause"):
        env.buy(1)
    with reverts("EnforcedPause"):
        env.orch(e.release(payment, env.ref()))
    with reverts("EnforcedPause"):
        env.orch(e.releaseFrom(payment, env.ref(), a.buyer))
    with reverts("EnforcedPause"):
        env.orch(e.releaseBatch([payment], [env.ref()]))
    env.orch(e.refund(payment, env.ref()))
    env.orch(e.refundFrom(payment, env.ref(), a.buyer))
    env.orch(e.refundBatch([payment], [env.ref()]))
    env.client.increase_time(TTL)
    env.mp.reclaim(payment, key=a.keys[5])
    assert env.payment(payment).unsettled == 0
    with reverts("EnforcedPause"):
        env.send(e.pause(), a.pauser)
    with reverts("AccessControlUnauthorizedAccount", a.pauser, DEFAULT_ADMIN_ROLE):
        env.send(e.unpause(), a.pauser)
    env.admin(e.unpause())
    with reverts("ExpectedPause"):
        env.admin(e.unpause())
    env.buy(1)


def test_paused_entitlements_block_purchases_but_not_settlement(env: ChainEnv):
    a, ent = env.acct, env.entitlements.functions
    payment = env.buy(4).payment_id
    env.send(ent.pause(), a.pauser)
    with reverts("EnforcedPause"):
        env.buy(1)
    env.mp.release(payment, env.ref(), key=a.keys[1])
    env.mp.refund(payment, env.ref(), key=a.keys[1])
    env.client.increase_time(TTL)
    env.mp.reclaim(payment, key=a.keys[5])
    assert env.units(a.buyer) == 0


# --------------------------------------------------------------------------------- roles


def _restricted_calls(env: ChainEnv):
    """(contract, function name, args, role) for every restricted function of both contracts."""
    e, n = env.escrow, env.entitlements
    ref = run_ref(1)
    return [
        (e, "release", (1, ref), ORCHESTRATOR_ROLE),
        (e, "refund", (1, ref), ORCHESTRATOR_ROLE),
        (e, "releaseFrom", (1, ref, env.acct.buyer), ORCHESTRATOR_ROLE),
        (e, "refundFrom", (1, ref, env.acct.buyer), ORCHESTRATOR_ROLE),
        (e, "releaseBatch", ([1], [ref]), ORCHESTRATOR_ROLE),
        (e, "refundBatch", ([1], [ref]), ORCHESTRATOR_ROLE),
        (e, "registerAgent", (9, env.acct.developer), DEFAULT_ADMIN_ROLE),
        (e, "setDeveloper", (AGENT, env.acct.developer2), DEFAULT_ADMIN_ROLE),
        (e, "setPrice", (AGENT, ETH, 1), DEFAULT_ADMIN_ROLE),
        (e, "setTokenAllowed", (env.usdc.address, False), DEFAULT_ADMIN_ROLE),
        (e, "setPlatformFee", (0,), DEFAULT_ADMIN_ROLE),
        (e, "setFeeRecipient", (env.acct.stranger,), DEFAULT_ADMIN_ROLE),
        (e, "pause", (), PAUSER_ROLE),
        (e, "unpause", (), DEFAULT_ADMIN_ROLE),
        (e, "grantRole", (ORCHESTRATOR_ROLE, env.acct.stranger), DEFAULT_ADMIN_ROLE),
        (e, "revokeRole", (ORCHESTRATOR_ROLE, env.acct.orchestrator), DEFAULT_ADMIN_ROLE),
        (n, "mint", (env.acct.stranger, AGENT, 1), MINTER_ROLE),
        (n, "burn", (env.acct.buyer, AGENT, 1), MINTER_ROLE),
        (n, "registerAgent", (9, 0, False), DEFAULT_ADMIN_ROLE),
        (n, "setAgentActive", (AGENT, False), DEFAULT_ADMIN_ROLE),
        (n, "setTransferable", (AGENT, True), DEFAULT_ADMIN_ROLE),
        (n, "setMaxSupply", (AGENT, 1), DEFAULT_ADMIN_ROLE),
        (n, "setBaseURI", ("x",), DEFAULT_ADMIN_ROLE),
        (n, "setTokenURI", (AGENT, "x"), DEFAULT_ADMIN_ROLE),
        (n, "pause", (), PAUSER_ROLE),
        (n, "unpause", (), DEFAULT_ADMIN_ROLE),
        (n, "grantRole", (MINTER_ROLE, env.acct.stranger), DEFAULT_ADMIN_ROLE),
        (n, "revokeRole", (PAUSER_ROLE, env.acct.pauser), DEFAULT_ADMIN_ROLE),
    ]


RESTRICTED_COUNT = 28


def test_every_restricted_function_checks_its_role(env: ChainEnv):
    """A stranger, and a holder of a different role, are refused by every restricted function."""
    a = env.acct
    other_role_holder = {
        ORCHESTRATOR_ROLE: a.admin,
        DEFAULT_ADMIN_ROLE: a.orchestrator,
        PAUSER_ROLE: a.admin,
        MINTER_ROLE: a.admin,
    }
    calls = _restricted_calls(env)
    assert len(calls) == RESTRICTED_COUNT
    env.buy(2)
    for contract, name, args, role in calls:
        for caller in (a.stranger, other_role_holder[role]):
            with reverts("AccessControlUnauthorizedAccount", caller, role):
                env.send(getattr(contract.functions, name)(*args), caller)


def test_every_restricted_function_is_listed(env: ChainEnv):
    """The role table above covers every state-changing function except the open ones."""
    listed = {(c.address, name) for c, name, _, _ in _restricted_calls(env)}
    open_functions = {
        env.escrow.address: {"purchase", "reclaim", "prepareRunRefs", "renounceRole"},
        env.entitlements.address: {
            "renounceRole",
            "safeTransferFrom",
            "safeBatchTransferFrom",
            "setApprovalForAll",
        },
    }
    for contract in (env.escrow, env.entitlements):
        mutating = {
            item["name"]
            for item in contract.abi
            if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable")
        }
        covered = {name for address, name in listed if address == contract.address}
        assert mutating == covered | open_functions[contract.address]


def test_no_function_can_withdraw_escrowed_funds(env: ChainEnv):
    """Only purchase, release(…), refund(…) and reclaim move funds; the ABI has nothing else
    that could, and the escrow refuses plain ETH. (prepareRunRefs only writes bitmap sentinels:
    test_escrow_run_refs checks it moves nothing.)"""
    mutating = {
        item["name"]
        for item in env.escrow.abi
        if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable")
    }
    fund_moving = {"purchase", "release", "refund", "releaseFrom", "refundFrom"}
    fund_moving |= {"releaseBatch", "refundBatch", "reclaim"}
    configuration = {"registerAgent", "setDeveloper", "setPrice", "setTokenAllowed"}
    configuration |= {"setPlatformFee", "setFeeRecipient", "pause", "unpause"}
    roles = {"grantRole", "revokeRole", "renounceRole"}
    bookkeeping = {"prepareRunRefs"}
    assert mutating == fund_moving | configuration | roles | bookkeeping
    assert not any(item["type"] in ("receive", "fallback") for item in env.escrow.abi)
    with pytest.raises(Exception):  # noqa: B017 - any rejection will do
        env.client.send_value(env.escrow.address, 1, key=env.acct.keys[5])

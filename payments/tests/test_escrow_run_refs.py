"""The escrow's settled-runs bitmap: 255 run references per word, the sentinel bit 255 and
`prepareRunRefs`, which pre-warms words so that no single settlement pays for a new storage slot.

Decision: docs/decisions/0009-run-ref-bitmap-prewarm.md.
"""

from __future__ import annotations

import pytest

from payments.chain.client import DEFAULT_ADMIN_ROLE, ORCHESTRATOR_ROLE
from payments.chain.marketplace import (
    PREPARE_WORDS_PER_TX,
    RUN_REFS_PER_WORD,
    run_ref,
    run_ref_word,
)
from payments.tests.chain_env import ETH, ChainEnv, reverts

SENTINEL = 1 << 255
LAST_WORD = (2**256 - 1) // RUN_REFS_PER_WORD
FLOOR_SINGLE = 100_000  # the floor for every single release or refund
NEW_SLOT_EXTRA = 17_100  # zero -> non-zero SSTORE (22,100) minus non-zero -> non-zero (5,000)
# Far above the sequential references other helpers hand out (env.ref() counts from 1).
BASE_WORD = 1_000_000


def first_ref(word: int) -> int:
    return word * RUN_REFS_PER_WORD


def ref_of(value: int) -> bytes:
    return run_ref(value)


def prepare(env: ChainEnv, from_word: int, count: int, sender: str | None = None):
    return env.send(
        env.escrow.functions.prepareRunRefs(from_word, count), sender or env.acct.stranger
    )


def preview(env: ChainEnv, from_word: int, count: int) -> int:
    """How many of the words are still zero (what prepareRunRefs would return)."""
    return env.call(env.escrow.functions.prepareRunRefs(from_word, count))


def escrow_funds(env: ChainEnv) -> tuple[int, ...]:
    e = env.escrow.address
    return (
        env.balance(ETH, e),
        env.balance(env.usdc.address, e),
        env.units(env.acct.buyer),
        env.units(env.acct.buyer2),
    )


# --------------------------------------------------------------------------------- encoding


def test_constants_and_word_of_a_reference(env: ChainEnv):
    assert env.call(env.escrow.functions.RUN_REFS_PER_WORD()) == RUN_REFS_PER_WORD == 255
    assert run_ref_word(1) == 0
    assert run_ref_word(254) == 0
    assert run_ref_word(255) == 1
    assert run_ref_word(509) == 1
    assert run_ref_word(510) == 2
    assert run_ref_word(b"\xff" * 32) == LAST_WORD
    # 2**256 - 1 is a multiple of 255: the last reference is bit 0 of the last word.
    assert (2**256 - 1) % RUN_REFS_PER_WORD == 0
    with pytest.raises(ValueError):
        run_ref_word(0)


def test_references_map_to_word_and_bit_below_255(env: ChainEnv):
    """Settling a reference sets exactly bit ref % 255 of word ref // 255 (raw storage)."""
    orch = env.acct.orchestrator
    payment = env.buy(8).payment_id
    refs = [254, 255, 256, 509, 510, first_ref(BASE_WORD) + 254]
    env.send(
        env.escrow.functions.refundBatch([payment] * len(refs), [ref_of(r) for r in refs]), orch
    )
    assert env.settled_word(0) == 1 << 254
    assert env.settled_word(1) == (1 << 0) | (1 << 1) | (1 << 254)
    assert env.settled_word(2) == 1 << 0
    assert env.settled_word(BASE_WORD) == 1 << 254
    for r in (1, 253, 257, 508, 511):
        assert not env.mp.is_run_settled(ref_of(r))
    assert all(env.mp.is_run_settled(ref_of(r)) for r in refs)


# --------------------------------------------------------------------------------- prepareRunRefs


def test_prepare_writes_only_the_sentinel_and_moves_nothing(env: ChainEnv):
    env.buy(2)  # the escrow holds something
    before = escrow_funds(env)
    assert preview(env, BASE_WORD, 3) == 3
    receipt = prepare(env, BASE_WORD, 3)  # a stranger: the function needs no role
    assert env.events(env.escrow, "RunRefWordsPrepared", receipt) == [
        {"fromWord": BASE_WORD, "count": 3, "prepared": 3}
    ]
    for word in range(BASE_WORD, BASE_WORD + 3):
        assert env.settled_word(word) == SENTINEL
        assert env.mp.is_run_ref_word_prepared(word)
    assert env.settled_word(BASE_WORD - 1) == 0 and env.settled_word(BASE_WORD + 3) == 0
    assert not env.mp.is_run_ref_word_prepared(BASE_WORD + 3)
    assert escrow_funds(env) == before
    # No emitted transfer, burn or settlement either.
    for name in ("RunReleased", "RunRefunded", "PaymentReclaimed"):
        assert env.events(env.escrow, name, receipt) == []
    assert env.events(env.entitlements, "TransferSingle", receipt) == []


def test_sentinel_is_never_reported_as_settled(env: ChainEnv):
    prepare(env, BASE_WORD, 1)
    start = first_ref(BASE_WORD)
    # Every reference of the prepared word, and its neighbours on both sides.
    for value in range(start - 1, start + RUN_REFS_PER_WORD + 1):
        assert not env.mp.is_run_settled(ref_of(value)), value


def test_prepare_is_idempotent_and_leaves_used_words_alone(env: ChainEnv):
    payment = env.buy(1).payment_id
    used = first_ref(BASE_WORD + 1) + 7
    env.mp.refund(payment, ref_of(used), key=env.acct.keys[1])
    assert env.settled_word(BASE_WORD + 1) == 1 << 7

    receipt = prepare(env, BASE_WORD, 3)
    assert env.events(env.escrow, "RunRefWordsPrepared", receipt)[0]["prepared"] == 2
    assert env.settled_word(BASE_WORD) == SENTINEL
    assert env.settled_word(BASE_WORD + 1) == 1 << 7  # untouched: already non-zero
    assert env.settled_word(BASE_WORD + 2) == SENTINEL

    assert preview(env, BASE_WORD, 3) == 0
    again = prepare(env, BASE_WORD, 3)
    assert env.events(env.escrow, "RunRefWordsPrepared", again) == []
    assert [env.settled_word(w) for w in range(BASE_WORD, BASE_WORD + 3)] == [
        SENTINEL,
        1 << 7,
        SENTINEL,
    ]
    # A repeat costs reads only: far less than writing a slot.
    assert again["gasUsed"] < receipt["gasUsed"] - 30_000


def test_prepare_rejects_empty_and_out_of_range_word_ranges(env: ChainEnv):
    with reverts("InvalidRunRefWords", 5, 0):
        prepare(env, 5, 0)
    with reverts("InvalidRunRefWords", LAST_WORD + 1, 1):
        prepare(env, LAST_WORD + 1, 1)
    with reverts("InvalidRunRefWords", LAST_WORD, 2):
        prepare(env, LAST_WORD, 2)
    with reverts("InvalidRunRefWords", 1, 2**256 - 1):
        prepare(env, 1, 2**256 - 1)
    # The last word exists (reference 2**256 - 1 lives there) and settles normally once prepared.
    prepare(env, LAST_WORD - 1, 2)
    payment = env.buy(1).payment_id
    top = b"\xff" * 32
    env.mp.release(payment, top, key=env.acct.keys[1])
    assert env.mp.is_run_settled(top)
    assert env.settled_word(LAST_WORD) == SENTINEL | 1


def test_prepare_needs_no_role_and_works_while_paused(env: ChainEnv):
    a, e = env.acct, env.escrow.functions
    payment = env.buy(2).payment_id
    env.send(e.pause(), a.pauser)
    for sender in (a.stranger, a.buyer, a.orchestrator):
        prepare(env, BASE_WORD, 2, sender=sender)
    assert not env.call(e.hasRole(ORCHESTRATOR_ROLE, a.stranger))
    assert not env.call(e.hasRole(DEFAULT_ADMIN_ROLE, a.stranger))
    # Pause rules are unchanged: releases stop, refunds go on.
    with reverts("EnforcedPause"):
        env.orch(e.release(payment, ref_of(first_ref(BASE_WORD))))
    env.orch(e.refund(payment, ref_of(first_ref(BASE_WORD))))
    assert env.settled_word(BASE_WORD) == SENTINEL | 1


# --------------------------------------------------------------------------------- settle once


def test_every_reference_of_a_prepared_word_settles_exactly_once(env: ChainEnv):
    """The sentinel never blocks a real reference: all 255 of a prepared word settle, once."""
    orch = env.acct.orchestrator
    e = env.escrow.functions
    prepare(env, BASE_WORD, 2)
    payment = env.buy(RUN_REFS_PER_WORD + 1).payment_id
    refs = [ref_of(first_ref(BASE_WORD) + i) for i in range(RUN_REFS_PER_WORD)]
    receipt = env.send(e.refundBatch([payment] * len(refs), refs), orch)
    assert len(env.events(env.escrow, "RunRefunded", receipt)) == RUN_REFS_PER_WORD
    assert env.settled_word(BASE_WORD) == 2**256 - 1  # 255 run bits + the sentinel
    assert env.settled_word(BASE_WORD + 1) == SENTINEL  # the next word is not touched
    assert all(env.mp.is_run_settled(ref) for ref in refs)
    assert not env.mp.is_run_settled(ref_of(first_ref(BASE_WORD + 1)))
    assert not env.mp.is_run_settled(ref_of(first_ref(BASE_WORD) - 1))
    for ref in (refs[0], refs[127], refs[-1]):
        with reverts("RunAlreadySettled", ref):
            env.send(e.release(payment, ref), orch)
        with reverts("RunAlreadySettled", ref):
            env.send(e.refund(payment, ref), orch)
    assert env.payment(payment).unsettled == 1


@pytest.mark.parametrize("prepared", [False, True])
def test_settle_once_holds_across_word_boundaries(env: ChainEnv, prepared):
    a, e = env.acct, env.escrow.functions
    orch = a.orchestrator
    if prepared:
        prepare(env, BASE_WORD, 3)
    start = first_ref(BASE_WORD)
    boundary = [start + 254, start + 255, start + 509, start + 510]
    first, second = env.buy(6).payment_id, env.buy(6, buyer=a.buyer2).payment_id
    env.send(e.releaseBatch([first] * 2, [ref_of(boundary[0]), ref_of(boundary[1])]), orch)
    env.send(e.refund(first, ref_of(boundary[2])), orch)
    env.send(e.release(second, ref_of(boundary[3])), orch)
    sentinel = SENTINEL if prepared else 0
    assert env.settled_word(BASE_WORD) == sentinel | 1 << 254
    assert env.settled_word(BASE_WORD + 1) == sentinel | 1 | 1 << 254
    assert env.settled_word(BASE_WORD + 2) == sentinel | 1
    for value in boundary:
        ref = ref_of(value)
        assert env.mp.is_run_settled(ref)
        for payment in (first, second):  # once ever, on any payment, by any path
            with reverts("RunAlreadySettled", ref):
                env.send(e.release(payment, ref), orch)
            with reverts("RunAlreadySettled", ref):
                env.send(e.refundBatch([payment], [ref]), orch)
    assert (env.payment(first).unsettled, env.payment(second).unsettled) == (3, 5)
    for value in (start + 253, start + 256, start + 508, start + 511):
        assert not env.mp.is_run_settled(ref_of(value))


# --------------------------------------------------------------------------------- gas


@pytest.mark.parametrize("token_name", ["eth", "usdc"])
@pytest.mark.parametrize("op", ["release", "refund", "releaseFrom", "refundFrom"])
def test_first_settlement_in_a_prepared_word_stays_under_the_floor(env: ChainEnv, token_name, op):
    """Every single release or refund <= 100,000 gas, also the first in a new bitmap word, once
    the developer and the fee recipient already hold the token. Without pre-warming the same
    settlement still works, for exactly one new slot (17,100 gas) more."""
    a = env.acct
    token = ETH if token_name == "eth" else env.usdc.address
    if token != ETH:
        for holder in (a.developer, a.fee_recipient):
            env.admin(env.usdc.functions.mint(holder, 1_000_000))
    payment = env.buy(10, token=token).payment_id
    env.mp.release(payment, env.ref(), key=a.keys[1])  # steady state: the escrow has paid out

    def settle(value: int) -> int:
        args = (payment, ref_of(value)) + ((a.buyer,) if op.endswith("From") else ())
        return int(env.orch(getattr(env.escrow.functions, op)(*args))["gasUsed"])

    prepare(env, BASE_WORD, 1)
    warm = settle(first_ref(BASE_WORD))
    assert env.settled_word(BASE_WORD) == SENTINEL | 1
    assert warm <= FLOOR_SINGLE, f"{op} {token_name} in a prepared word: {warm} gas"

    # Same shape of reference (same zero bytes in calldata), in a word nobody prepared.
    cold = settle(first_ref(BASE_WORD + 2))
    assert env.settled_word(BASE_WORD + 2) == 1
    assert abs((cold - warm) - NEW_SLOT_EXTRA) <= 100, (cold, warm)


def test_prepared_word_makes_first_settlement_cost_like_the_rest(env: ChainEnv):
    """A prepared word's first settlement costs what a settlement in a word in use costs."""
    a = env.acct
    payment = env.buy(10).payment_id
    prepare(env, BASE_WORD, 1)
    start = first_ref(BASE_WORD)
    first = env.mp.release(payment, ref_of(start), key=a.keys[1])["gasUsed"]
    second = env.mp.release(payment, ref_of(start + 1), key=a.keys[1])["gasUsed"]
    assert abs(first - second) <= 50


# --------------------------------------------------------------------------------- Python side


def test_ensure_run_refs_prepared_sends_only_what_is_missing(env: ChainEnv):
    mp, key = env.mp, env.acct.keys[7]  # any key: the stranger's
    first_id = first_ref(BASE_WORD) + 200  # in the middle of a word
    runs = PREPARE_WORDS_PER_TX * RUN_REFS_PER_WORD  # spans 65 words: two transactions
    receipts = mp.ensure_run_refs_prepared(first_id, runs, key=key)
    assert len(receipts) == 2
    words = range(run_ref_word(first_id), run_ref_word(first_id + runs - 1) + 1)
    assert len(words) == PREPARE_WORDS_PER_TX + 1
    assert all(mp.is_run_ref_word_prepared(w) for w in (words[0], words[-1], words[40]))
    assert not mp.is_run_ref_word_prepared(words[0] - 1)
    assert not mp.is_run_ref_word_prepared(words[-1] + 1)
    prepared = sum(
        event["prepared"]
        for receipt in receipts
        for event in env.events(env.escrow, "RunRefWordsPrepared", receipt)
    )
    assert prepared == len(words)

    block = env.client.rpc("eth_blockNumber")
    assert mp.ensure_run_refs_prepared(first_id, runs, key=key) == []
    assert env.client.rpc("eth_blockNumber") == block, "nothing to prepare: nothing sent"
    # Extending the window sends one transaction, for the new words only.
    (receipt,) = mp.ensure_run_refs_prepared(first_id, runs + RUN_REFS_PER_WORD, key=key)
    assert env.events(env.escrow, "RunRefWordsPrepared", receipt)[0]["prepared"] == 1
    with pytest.raises(ValueError):
        mp.ensure_run_refs_prepared(first_id, 0, key=key)


def test_prepare_run_refs_method(env: ChainEnv):
    receipt = env.mp.prepare_run_refs(BASE_WORD, 2, key=env.acct.keys[7])
    assert env.events(env.escrow, "RunRefWordsPrepared", receipt)[0]["prepared"] == 2
    assert env.mp.is_run_ref_word_prepared(BASE_WORD + 1)
    # The sender paid for the storage; a settlement in the word then costs the steady price.
    payment = env.buy(1).payment_id
    env.mp.release(payment, ref_of(first_ref(BASE_WORD + 1)), key=env.acct.keys[1])
    assert env.settled_word(BASE_WORD + 1) == SENTINEL | 1

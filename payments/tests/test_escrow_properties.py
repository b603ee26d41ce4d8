"""Property tests: random sequences of purchases, releases, refunds, reclaims, fee and price
changes, clock jumps, run-reference bitmap pre-warming and jumps of the run reference counter to
a bitmap word's edge, checked step by step against a Python model of the escrow.

After every step, for ETH and the 6-decimal stablecoin:
  - the escrow's balance equals the sum over payments of unsettled runs x price;
  - every buyer's entitlement balance equals the unsettled runs of that buyer's payments;
  - developer, fee recipient and buyers hold exactly what the model says they were paid;
  - every reference settled so far reads as settled, and the next fresh one does not.
At the end every payment is drained (reclaim after expiry), the escrow holds nothing, no unit is
left, and every wei/unit paid in ended with exactly one of developer, fee recipient or buyer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from payments.chain.client import ContractRevert
from payments.chain.marketplace import RUN_REFS_PER_WORD, run_ref, run_ref_word
from payments.tests.chain_env import AGENT, ETH, ETH_PRICE, FEE_BPS, TTL, USDC_PRICE, ChainEnv

HOUR, DAY = 3600, 86400
# Near an expiry the next block's exact timestamp is not known in advance: within this window
# either outcome is accepted and the model follows what the chain did.
AMBIGUOUS = 120


@dataclass
class ModelPayment:
    payment_id: int
    buyer: str
    token: str
    price: int
    fee_bps: int
    unsettled: int
    expires_at: int


class EscrowMachine(RuleBasedStateMachine):
    env: ChainEnv  # set by the test below

    def __init__(self) -> None:
        super().__init__()
        env = self.env
        self.client = env.client
        self.snapshot = self.client.snapshot()
        a = env.acct
        self.tokens = [ETH, env.usdc.address]
        self.buyers = [a.buyer, a.buyer2, a.stranger]
        self.parties = [a.developer, a.fee_recipient, *self.buyers]
        self.start = {(t, p): env.balance(t, p) for t in self.tokens for p in self.parties}
        self.expected = dict(self.start)  # what each party should hold
        self.paid_in = dict.fromkeys(self.tokens, 0)
        self.gas_paid: dict[str, int] = {}
        self.payments: list[ModelPayment] = []
        self.fee_bps = FEE_BPS
        self.prices = {ETH: ETH_PRICE, env.usdc.address: USDC_PRICE}
        self.used_refs: list[bytes] = []
        self.keys = {addr: a.key(addr) for addr in a.addresses}

    def teardown(self) -> None:
        try:
            if self.payments:
                self._drain_and_check_conservation()
        finally:
            self.client.revert_to(self.snapshot)

    # ------------------------------------------------------------------ helpers

    def now(self) -> int:
        return self.client.block_timestamp()

    def pick(self, index: int) -> ModelPayment:
        return self.payments[index % len(self.payments)]

    def expect_revert(self, name: str, action) -> None:
        with pytest.raises(ContractRevert) as info:
            action()
        assert info.value.name == name, info.value

    def settle(self, p: ModelPayment, count: int, release: bool, batch: bool) -> None:
        env = self.env
        refs = [env.ref() for _ in range(count)]
        orch = self.keys[env.acct.orchestrator]

        def send():
            if batch or count > 1:
                pairs = [(p.payment_id, ref) for ref in refs]
                fn = env.mp.release_batch if release else env.mp.refund_batch
                return fn(pairs, key=orch)
            fn = env.mp.release if release else env.mp.refund
            return fn(p.payment_id, refs[0], key=orch)

        remaining = p.expires_at - self.now()
        if count > p.unsettled:
            self.expect_revert("InsufficientUnsettledRuns", send)
            return
        if release and remaining <= 0:
            self.expect_revert("PaymentExpired", send)
            return
        if release and remaining < AMBIGUOUS:
            try:
                send()
            except ContractRevert as exc:
                assert exc.name == "PaymentExpired"
                return
        else:
            send()
        p.unsettled -= count
        self.used_refs.extend(refs)
        if release:
            fee = p.price * p.fee_bps // 10_000
            self.expected[(p.token, env.acct.developer)] += (p.price - fee) * count
            self.expected[(p.token, env.acct.fee_recipient)] += fee * count
        else:
            self.expected[(p.token, p.buyer)] += p.price * count
        self.check_parties(p.token, env.acct.developer, env.acct.fee_recipient, p.buyer)

    def reclaim(self, p: ModelPayment) -> None:
        env = self.env

        def send():
            return env.mp.reclaim(p.payment_id, key=self.keys[env.acct.admin])

        remaining = p.expires_at - self.now()
        if remaining >= AMBIGUOUS:
            self.expect_revert("PaymentNotExpired", send)
            return
        if p.unsettled == 0:
            self.expect_revert("NothingToReclaim" if remaining <= 0 else "PaymentNotExpired", send)
            return
        if remaining > 0:
            try:
                send()
            except ContractRevert as exc:
                assert exc.name == "PaymentNotExpired"
                return
        else:
            send()
        self.expected[(p.token, p.buyer)] += p.price * p.unsettled
        p.unsettled = 0
        self.check_parties(p.token, p.buyer)

    # ------------------------------------------------------------------ rules

    @rule(buyer=st.integers(0, 2), token=st.integers(0, 1), runs=st.integers(1, 4))
    def purchase(self, buyer: int, token: int, runs: int) -> None:
        env = self.env
        who, tok = self.buyers[buyer], self.tokens[token]
        purchase = env.mp.purchase(AGENT, tok, runs, key=self.keys[who])
        price = self.prices[tok]
        assert purchase.amount == runs * price
        self.paid_in[tok] += runs * price
        self.expected[(tok, who)] -= runs * price
        gas = env.eth_cost(purchase.receipt)  # buyers pay gas in ETH whatever they buy with
        self.expected[(ETH, who)] -= gas
        self.gas_paid[ETH] = self.gas_paid.get(ETH, 0) + gas
        self.payments.append(
            ModelPayment(
                purchase.payment_id, who, tok, price, self.fee_bps, runs, purchase.expires_at
            )
        )
        self.check_parties(tok, who)
        self.check_parties(ETH, who)

    @precondition(lambda self: self.payments)
    @rule(index=st.integers(0, 10**6), count=st.integers(1, 3), batch=st.booleans())
    def release(self, index: int, count: int, batch: bool) -> None:
        self.settle(self.pick(index), count, release=True, batch=batch)

    @precondition(lambda self: self.payments)
    @rule(index=st.integers(0, 10**6), count=st.integers(1, 3), batch=st.booleans())
    def refund(self, index: int, count: int, batch: bool) -> None:
        self.settle(self.pick(index), count, release=False, batch=batch)

    @precondition(lambda self: self.payments)
    @rule(index=st.integers(0, 10**6))
    def reclaim_payment(self, index: int) -> None:
        self.reclaim(self.pick(index))

    @precondition(lambda self: self.used_refs and self.payments)
    @rule(index=st.integers(0, 10**6), release=st.booleans())
    def settle_a_run_again(self, index: int, release: bool) -> None:
        env, p = self.env, self.pick(index)
        ref = self.used_refs[index % len(self.used_refs)]
        fn = env.mp.release if release else env.mp.refund
        with pytest.raises(ContractRevert):  # RunAlreadySettled, or an earlier check
            fn(p.payment_id, ref, key=self.keys[env.acct.orchestrator])

    @rule()
    def settle_unknown_payment(self) -> None:
        env = self.env
        unknown = len(self.payments) + 1
        self.expect_revert(
            "UnknownPayment",
            lambda: env.mp.release(unknown, env.ref(), key=self.keys[env.acct.orchestrator]),
        )

    @rule(fee_bps=st.sampled_from([0, 1, 250, 2999, 3000]))
    def set_fee(self, fee_bps: int) -> None:
        self.env.admin(self.env.escrow.functions.setPlatformFee(fee_bps))
        self.fee_bps = fee_bps

    @rule(token=st.integers(0, 1), choice=st.integers(0, 3))
    def set_price(self, token: int, choice: int) -> None:
        # Odd prices make the fee split round; buyers hold 10**15 of each token.
        tok = self.tokens[token]
        price = [1, 3, 999_999, 10**13 + 7 if tok == ETH else 2_500_001][choice]
        self.env.mp.set_price(AGENT, tok, price, key=self.keys[self.env.acct.admin])
        self.prices[tok] = price

    @rule(ahead=st.integers(0, 2), count=st.integers(1, 3))
    def prepare_run_ref_words(self, ahead: int, count: int) -> None:
        # Sent by the pauser, who is none of the parties whose balances the model tracks.
        env = self.env
        word = run_ref_word(env._ref_counter[0] + 1) + ahead
        env.mp.prepare_run_refs(word, count, key=self.keys[env.acct.pauser])
        assert all(env.mp.is_run_ref_word_prepared(w) for w in range(word, word + count))

    @rule(before=st.integers(0, 3))
    def jump_to_a_word_edge(self, before: int) -> None:
        # The next references straddle the end of the next bitmap word.
        counter = self.env._ref_counter
        next_edge = (run_ref_word(counter[0] + 1) + 1) * RUN_REFS_PER_WORD
        counter[0] = next_edge - 1 - before

    @rule(seconds=st.sampled_from([HOUR, 7 * DAY + 13, TTL + DAY]))
    def advance_time(self, seconds: int) -> None:
        self.client.increase_time(seconds)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def escrow_holds_exactly_the_unsettled_runs(self) -> None:
        for token in self.tokens:
            owed = sum(p.unsettled * p.price for p in self.payments if p.token == token)
            assert self.env.balance(token, self.env.escrow.address) == owed

    @invariant()
    def units_equal_unsettled_runs_of_the_holders_payments(self) -> None:
        for buyer in self.buyers:
            owed = sum(p.unsettled for p in self.payments if p.buyer == buyer)
            assert self.env.units(buyer) == owed

    @invariant()
    def settled_references_and_only_those_read_as_settled(self) -> None:
        mp = self.env.mp
        for ref in self.used_refs[-4:]:
            assert mp.is_run_settled(ref)
        assert not mp.is_run_settled(run_ref(self.env._ref_counter[0] + 1))

    def check_parties(self, token: str, *parties: str) -> None:
        """Developer, fee recipient and buyers hold exactly what the model says. Checked after
        each step for the parties the step paid, and for everyone at the end."""
        for party in parties:
            assert self.env.balance(token, party) == self.expected[(token, party)], (token, party)

    # ------------------------------------------------------------------ the end

    def _drain_and_check_conservation(self) -> None:
        env, a = self.env, self.env.acct
        for p in self.payments:
            chain = env.payment(p.payment_id)
            assert (chain.unsettled, chain.price, chain.fee_bps) == (
                p.unsettled,
                p.price,
                p.fee_bps,
            )
        # Return everything still unsettled in one batch (refunds work after expiry, and expiry
        # blocks releases), then compare every party with the model.
        self.client.increase_time(TTL + DAY)
        open_runs = [(p.payment_id, env.ref()) for p in self.payments for _ in range(p.unsettled)]
        if open_runs:
            env.mp.refund_batch(open_runs, key=self.keys[a.orchestrator])
        for p in self.payments:
            self.expected[(p.token, p.buyer)] += p.price * p.unsettled
            p.unsettled = 0
        for token in self.tokens:
            self.check_parties(token, *self.parties)
        for buyer in self.buyers:
            assert env.units(buyer) == 0
        for token in self.tokens:
            assert env.balance(token, env.escrow.address) == 0

            def delta(party: str, token: str = token) -> int:
                return env.balance(token, party) - self.start[(token, party)]

            developer, platform = delta(a.developer), delta(a.fee_recipient)
            # Buyers' net change is refunds - payments - gas, so refunds is:
            refunds = sum(delta(b) for b in self.buyers) + self.gas_paid.get(token, 0)
            refunds += self.paid_in[token]
            # Every wei/unit paid in ended with exactly one of developer, fee recipient or buyer.
            assert min(developer, platform, refunds) >= 0
            assert developer + platform + refunds == self.paid_in[token]


# Bounded so the module stays fast; raise ESCROW_PROPERTY_EXAMPLES for a longer local search.
MAX_EXAMPLES = int(os.environ.get("ESCROW_PROPERTY_EXAMPLES", "30"))
# Shrinking a failure against a live chain can take minutes; ESCROW_PROPERTY_NO_SHRINK=1 skips it.
PHASES = [Phase.explicit, Phase.generate] if os.environ.get("ESCROW_PROPERTY_NO_SHRINK") else None


def test_escrow_state_machine(env: ChainEnv):
    EscrowMachine.env = env
    runner = EscrowMachine.TestCase
    runner.settings = settings(
        max_examples=MAX_EXAMPLES,
        stateful_step_count=20,
        deadline=None,
        database=None,
        **({"phases": PHASES} if PHASES else {}),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runner().runTest()

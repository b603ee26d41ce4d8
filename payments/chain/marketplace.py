"""Typed operations on a deployed escrow + entitlements pair (what the Django side calls)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from payments.chain.artifacts import ENTITLEMENTS, ESCROW, MOCK_STABLECOIN
from payments.chain.client import (
    NATIVE_TOKEN,
    ChainClient,
    ContractRevert,
    MarketplaceDeployment,
)

Key = str | LocalAccount

# Run references per word of the escrow's settled-runs bitmap (AgentNexusEscrow.RUN_REFS_PER_WORD).
RUN_REFS_PER_WORD = 255
# Words per prepareRunRefs transaction in `ensure_run_refs_prepared`: ~22,200 gas each, so a full
# chunk stays near 1.4M gas.
PREPARE_WORDS_PER_TX = 64


def run_ref(run_id: int | uuid.UUID | bytes) -> bytes:
    """The bytes32 run reference for a platform run id.

    The reference is the id as a 256-bit big-endian integer (an int as is, a UUID's 128-bit value,
    or 32 given bytes unchanged); 0 is not a valid reference. The escrow settles each reference at
    most once, ever, across all payments, and records it as bit `ref % 255` of bitmap word
    `ref // 255` (`run_ref_word`). Bit 255 of every word is a sentinel that stands for no run.

    Prefer a sequential integer (e.g. the run's auto-increment primary key): 255 consecutive ids
    share one storage slot, so only the first settlement in a word pays for a new slot (~17,100 gas
    more) - and not even that one if the word was prepared in advance (`prepare_run_refs`). Scattered
    references (UUIDs) still work, but each one then lands in a word of its own.
    """
    if isinstance(run_id, bytes):
        if len(run_id) != 32:
            raise ValueError("a run reference is exactly 32 bytes")
        value = int.from_bytes(run_id, "big")
    elif isinstance(run_id, uuid.UUID):
        value = run_id.int
    elif isinstance(run_id, int) and not isinstance(run_id, bool):
        value = run_id
    else:
        raise TypeError(f"run id must be int, UUID or 32 bytes, not {type(run_id).__name__}")
    if not 0 < value < 2**256:
        raise ValueError("a run reference must be between 1 and 2**256 - 1")
    return value.to_bytes(32, "big")


def run_ref_word(run_id: int | uuid.UUID | bytes) -> int:
    """The escrow bitmap word that records the settlement of `run_id` (see `run_ref`)."""
    return int.from_bytes(run_ref(run_id), "big") // RUN_REFS_PER_WORD


@dataclass(frozen=True)
class Payment:
    payment_id: int
    buyer: str
    agent_id: int
    token: str
    price: int
    runs: int
    unsettled: int
    fee_bps: int
    expires_at: int

    @property
    def exists(self) -> bool:
        return int(self.buyer, 16) != 0


@dataclass(frozen=True)
class Purchase:
    payment_id: int
    amount: int
    expires_at: int
    receipt: TxReceipt

    @property
    def gas_used(self) -> int:
        return int(self.receipt["gasUsed"])


class Marketplace:
    def __init__(
        self, client: ChainClient, *, entitlements: str, escrow: str, stablecoin: str | None = None
    ) -> None:
        self.client = client
        self.entitlements = client.contract(ENTITLEMENTS, entitlements)
        self.escrow = client.contract(ESCROW, escrow)
        self.stablecoin = client.contract(MOCK_STABLECOIN, stablecoin) if stablecoin else None

    @classmethod
    def from_deployment(cls, client: ChainClient, deployment: MarketplaceDeployment) -> Marketplace:
        return cls(
            client,
            entitlements=deployment.entitlements,
            escrow=deployment.escrow,
            stablecoin=deployment.stablecoin,
        )

    def _send(self, fn: Any, key: Key, value: int = 0) -> TxReceipt:
        return self.client.transact(fn, key=key, value=value)

    # ------------------------------------------------------------------ admin

    def register_agent(
        self,
        agent_id: int,
        developer: str,
        *,
        prices: Mapping[str, int],
        key: Key,
        max_supply: int = 0,
        transferable: bool = False,
    ) -> None:
        """Register in both contracts and set a price per token (NATIVE_TOKEN for ETH)."""
        self._send(
            self.entitlements.functions.registerAgent(agent_id, max_supply, transferable), key
        )
        self._send(self.escrow.functions.registerAgent(agent_id, developer), key)
        for token, price in prices.items():
            self.set_price(agent_id, token, price, key=key)

    def ensure_agent(
        self, agent_id: int, developer: str, *, prices: Mapping[str, int], key: Key
    ) -> list[str]:
        """Make the chain list `agent_id` for `developer` at `prices`; returns what changed.

        Idempotent and resumable: reads the chain first and sends only the missing transactions.
        """
        changes: list[str] = []
        developer = self.client.to_checksum(developer)
        current = self.developer_of(agent_id)
        if current is None:
            try:
                self._send(self.entitlements.functions.registerAgent(agent_id, 0, False), key)
            except ContractRevert as exc:  # an earlier attempt stopped between the two calls
                if exc.name != "AgentAlreadyRegistered":
                    raise
            self._send(self.escrow.functions.registerAgent(agent_id, developer), key)
            changes.append("registered")
        elif current != developer:
            self.set_developer(agent_id, developer, key=key)
            changes.append(f"developer {current} -> {developer}")
        for token, price in prices.items():
            if self.price(agent_id, token) != price:
                self.set_price(agent_id, token, price, key=key)
                changes.append(f"price {token} = {price}")
        return changes

    def set_developer(self, agent_id: int, developer: str, *, key: Key) -> TxReceipt:
        return self._send(
            self.escrow.functions.setDeveloper(agent_id, self.client.to_checksum(developer)), key
        )

    def developer_of(self, agent_id: int) -> str | None:
        """The developer address an agent pays out to, or None when it is not registered."""
        address = self.client.call(self.escrow.functions.developerOf(agent_id))
        return None if int(address, 16) == 0 else self.client.to_checksum(address)

    def set_price(self, agent_id: int, token: str, price: int, *, key: Key) -> TxReceipt:
        return self._send(
            self.escrow.functions.setPrice(agent_id, self.client.to_checksum(token), price), key
        )

    def allow_token(self, token: str, allowed: bool, *, key: Key) -> TxReceipt:
        return self._send(
            self.escrow.functions.setTokenAllowed(self.client.to_checksum(token), allowed), key
        )

    def set_agent_active(self, agent_id: int, active: bool, *, key: Key) -> TxReceipt:
        return self._send(self.entitlements.functions.setAgentActive(agent_id, active), key)

    def agent_active(self, agent_id: int) -> bool | None:
        """Whether entitlements can be minted for the agent (None: not registered)."""
        registered, active, *_ = self.client.call(self.entitlements.functions.agent(agent_id))
        return bool(active) if registered else None

    def ensure_agent_active(self, agent_id: int, active: bool, *, key: Key) -> bool:
        """Set the agent's on-chain active flag if it differs; True when a transaction was sent."""
        current = self.agent_active(agent_id)
        if current is None or current == active:
            return False
        self.set_agent_active(agent_id, active, key=key)
        return True

    # ------------------------------------------------------------------ buyers

    def approve(self, token: str, amount: int, *, key: Key) -> TxReceipt:
        erc20 = self.client.contract(MOCK_STABLECOIN, token)  # any ERC-20 ABI will do
        return self._send(erc20.functions.approve(self.escrow.address, amount), key)

    def purchase(self, agent_id: int, token: str, runs: int, *, key: Key) -> Purchase:
        """Buy `runs` runs at the listed price (ETH is sent as value; ERC-20 must be approved)."""
        token = self.client.to_checksum(token)
        price = self.price(agent_id, token)
        value = price * runs if int(token, 16) == 0 else 0
        receipt = self._send(self.escrow.functions.purchase(agent_id, token, runs), key, value)
        (event,) = self.client.events(self.escrow, "PaymentCreated", receipt)
        return Purchase(
            payment_id=event["paymentId"],
            amount=event["amount"],
            expires_at=event["expiresAt"],
            receipt=receipt,
        )

    def reclaim(self, payment_id: int, *, key: Key) -> TxReceipt:
        return self._send(self.escrow.functions.reclaim(payment_id), key)

    # ------------------------------------------------------------------ orchestrator

    def release(self, payment_id: int, ref: bytes, *, key: Key) -> TxReceipt:
        return self._send(self.escrow.functions.release(payment_id, ref), key)

    def refund(self, payment_id: int, ref: bytes, *, key: Key) -> TxReceipt:
        return self._send(self.escrow.functions.refund(payment_id, ref), key)

    def release_batch(self, runs: Iterable[tuple[int, bytes]], *, key: Key) -> TxReceipt:
        """Release (payment_id, run_ref) pairs in one transaction, grouped by payment."""
        ids, refs = _sorted_pairs(runs)
        return self._send(self.escrow.functions.releaseBatch(ids, refs), key)

    def refund_batch(self, runs: Iterable[tuple[int, bytes]], *, key: Key) -> TxReceipt:
        ids, refs = _sorted_pairs(runs)
        return self._send(self.escrow.functions.refundBatch(ids, refs), key)

    # ------------------------------------------------------------------ run reference words (anyone)

    def prepare_run_refs(self, from_word: int, count: int, *, key: Key) -> TxReceipt:
        """Pre-warm bitmap words `from_word .. from_word + count - 1` (`prepareRunRefs`).

        Each word still zero gets the sentinel bit, so the first release or refund of a run
        reference in it costs ~17,100 gas less (it stays under 100,000 gas). ~22,200 gas per word
        that was zero, ~2,200 per word already non-zero; any key may send it (it needs no role, and
        it cannot settle a run or move funds), e.g. one other than the orchestrator's, so it never
        competes for the orchestrator's nonces. Forgetting it is harmless: settlements cost more.
        """
        return self._send(self.escrow.functions.prepareRunRefs(from_word, count), key)

    def ensure_run_refs_prepared(
        self, first_run_id: int, runs: int, *, key: Key
    ) -> list[TxReceipt]:
        """Make sure the words of run ids `first_run_id .. first_run_id + runs - 1` are prepared.

        Call it ahead of use, e.g. from a periodic task with the next run id and the runs expected
        before the next call (plus a margin). Reads first (one eth_call per 64 words) and sends a
        transaction only for chunks that still hold a zero word, so calling it often costs no gas.
        Returns the receipts of the transactions sent (none when everything was prepared).
        """
        if runs < 1:
            raise ValueError("runs must be at least 1")
        first = run_ref_word(first_run_id)
        last = run_ref_word(first_run_id + runs - 1)
        receipts: list[TxReceipt] = []
        for start in range(first, last + 1, PREPARE_WORDS_PER_TX):
            count = min(PREPARE_WORDS_PER_TX, last + 1 - start)
            fn = self.escrow.functions.prepareRunRefs(start, count)
            if self.client.call(fn):  # how many of these words are still zero
                receipts.append(self._send(fn, key))
        return receipts

    def is_run_ref_word_prepared(self, word: int) -> bool:
        """Whether the first settlement in `word` will find a non-zero slot."""
        return self.client.call(self.escrow.functions.isRunRefWordPrepared(word))

    # ------------------------------------------------------------------ reads

    def payment(self, payment_id: int) -> Payment:
        view = self.client.call(self.escrow.functions.getPayment(payment_id))
        return Payment(payment_id, *view)

    def last_payment_id(self) -> int:
        return self.client.call(self.escrow.functions.lastPaymentId())

    def price(self, agent_id: int, token: str) -> int:
        return self.client.call(
            self.escrow.functions.priceOf(agent_id, self.client.to_checksum(token))
        )

    def has_access(self, user: str, agent_id: int) -> bool:
        return self.client.call(
            self.entitlements.functions.hasAccess(self.client.to_checksum(user), agent_id)
        )

    def units(self, user: str, agent_id: int) -> int:
        return self.client.call(
            self.entitlements.functions.balanceOf(self.client.to_checksum(user), agent_id)
        )

    def is_run_settled(self, ref: bytes) -> bool:
        return self.client.call(self.escrow.functions.isRunSettled(ref))

    def token_balance(self, token: str, holder: str) -> int:
        """ETH balance for NATIVE_TOKEN, otherwise the ERC-20 balance."""
        if int(token, 16) == 0:
            return self.client.balance(holder)
        erc20 = self.client.contract(MOCK_STABLECOIN, token)
        return self.client.call(erc20.functions.balanceOf(self.client.to_checksum(holder)))


def _sorted_pairs(runs: Iterable[tuple[int, bytes]]) -> tuple[list[int], list[bytes]]:
    pairs: Sequence[tuple[int, bytes]] = sorted(runs, key=lambda pair: (pair[0], pair[1]))
    return [pid for pid, _ in pairs], [ref for _, ref in pairs]


__all__ = [
    "NATIVE_TOKEN",
    "RUN_REFS_PER_WORD",
    "Marketplace",
    "Payment",
    "Purchase",
    "run_ref",
    "run_ref_word",
]

"""Sending the platform's transactions: one nonce sequence per account, errors classified.

- A lock per sending account (threads here; the caller can add a cross-process lock) covers
  nonce choice, signing and broadcast, so two settlements never take the same nonce.
- The nonce is kept in memory and re-synced from the chain ("pending" count) after any error.
- The transaction hash is known before broadcast (it is the hash of the signed bytes) and handed
  to `on_signed`, so the caller can record it first: a crash after sending leaves a record of
  what may be on chain.
- Errors: `TransientChainError` (connection, timeout, nonce too low, underpriced, not mined in
  time) may be retried; `ContractRevert` (decoded reason) and other `ChainError`s are permanent.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError

from payments.chain.client import GAS_MARGIN, ChainClient, ChainError, ContractRevert

TRANSIENT_MESSAGES = (
    "nonce too low",
    "replacement transaction underpriced",
    "transaction underpriced",
    "already known",
    "timeout",
    "temporarily unavailable",
    "connection",
)


class TransientChainError(ChainError):
    """The node could not take the transaction now; sending again later is safe."""


@dataclass(frozen=True)
class SentTx:
    tx_hash: str
    block_number: int
    gas_used: int
    receipt: Any


_locks: dict[str, threading.Lock] = {}
_nonces: dict[tuple[str, str], int] = {}
_registry_lock = threading.Lock()


def _account_lock(address: str) -> threading.Lock:
    with _registry_lock:
        return _locks.setdefault(address, threading.Lock())


def classify(exc: BaseException) -> ChainError:
    """Map a web3 / transport failure to a transient or permanent ChainError."""
    if isinstance(exc, ChainError):
        return exc
    if isinstance(exc, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        return TransientChainError(f"node unreachable: {exc}")
    if isinstance(exc, TimeExhausted):
        return TransientChainError(f"not mined in time: {exc}")
    message = str(exc).lower()
    if isinstance(exc, Web3RPCError | ValueError) and any(m in message for m in TRANSIENT_MESSAGES):
        return TransientChainError(str(exc))
    return ChainError(f"{type(exc).__name__}: {exc}")


class Sender:
    def __init__(
        self,
        client: ChainClient,
        key: str | LocalAccount,
        *,
        confirmations: int = 1,
        cross_process_lock: Callable[[str], contextlib.AbstractContextManager] | None = None,
    ) -> None:
        self.client = client
        self.account = client.account(key)
        self.confirmations = max(1, confirmations)
        self._cross_lock = cross_process_lock

    @property
    def address(self) -> str:
        return self.account.address

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with _account_lock(self.address):
            if self._cross_lock is None:
                yield
            else:
                with self._cross_lock(self.address):
                    yield

    def _nonce_key(self) -> tuple[str, str]:
        return (self.client.rpc_url, self.address)

    def resync(self) -> None:
        _nonces.pop(self._nonce_key(), None)

    def _next_nonce(self) -> int:
        key = self._nonce_key()
        if key not in _nonces:
            _nonces[key] = self.client.w3.eth.get_transaction_count(self.address, "pending")
        return _nonces[key]

    def send(
        self,
        fn: Any,
        *,
        value: int = 0,
        on_signed: Callable[[str], None] | None = None,
        wait: bool = True,
    ) -> SentTx | str:
        """Estimate (a revert surfaces here as ContractRevert, before anything is sent), sign,
        report the hash to `on_signed`, broadcast, then wait for the receipt and confirmations."""
        with self._locked():
            try:
                params: dict[str, Any] = {
                    "from": self.address,
                    "value": value,
                    "nonce": self._next_nonce(),
                    "chainId": self.client.chain_id,
                    **self.client._fees(),
                }
                try:
                    params["gas"] = int(
                        fn.estimate_gas(params, block_identifier="pending") * GAS_MARGIN
                    )
                    tx = fn.build_transaction(params)
                except ContractLogicError as exc:
                    raise self.client.errors.decode(exc.data) from None
                signed = self.account.sign_transaction(tx)
                tx_hash = signed.hash.to_0x_hex()
                if on_signed is not None:
                    on_signed(tx_hash)
                self.client.w3.eth.send_raw_transaction(signed.raw_transaction)
                _nonces[self._nonce_key()] = params["nonce"] + 1
            except ContractRevert:
                self.resync()
                raise
            except Exception as exc:  # noqa: BLE001 - classified and re-raised
                self.resync()
                raise classify(exc) from exc
        if not wait:
            return tx_hash
        return self.wait(tx_hash, tx=tx)

    def wait(self, tx_hash: str, *, tx: dict | None = None) -> SentTx:
        try:
            receipt = self.client.w3.eth.wait_for_transaction_receipt(
                tx_hash,
                timeout=self.client.receipt_timeout,
                poll_latency=self.client.poll_interval,
            )
            if receipt["status"] != 1:
                raise (
                    self.client._replay_failure(tx, receipt) if tx else ContractRevert("", (), b"")
                )
            target = receipt["blockNumber"] + self.confirmations - 1
            deadline = time.monotonic() + self.client.receipt_timeout
            while self.client.w3.eth.block_number < target:
                if time.monotonic() > deadline:
                    raise TransientChainError(f"{tx_hash}: confirmations not reached in time")
                time.sleep(self.client.poll_interval)
        except ChainError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified and re-raised
            raise classify(exc) from exc
        return SentTx(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            receipt=receipt,
        )

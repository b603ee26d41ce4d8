"""Reading the escrow from the chain: its event logs, block headers, and state at a given block.

What the indexer (payments/indexer.py) and reconciliation (payments/reconcile.py) need from the
node, returned as plain dataclasses: no web3 type leaves this module. Transport failures become
`TransientChainError` (retry later), anything else the node refuses becomes `ChainError`.

    reader = EscrowReader(client, escrow_address)
    reader.head()                              # latest block number
    reader.headers(range(100, 120))            # {number: BlockHeader | None}, batched
    reader.logs(100, 5_000)                    # decoded EscrowLogs, fetched in chunks
    reader.payment(7, block=119)               # the escrow's view of payment 7 at block 119
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from payments.chain.artifacts import ESCROW, MOCK_STABLECOIN, load_artifact
from payments.chain.client import ChainClient, ChainError
from payments.chain.marketplace import Payment
from payments.chain.sender import TransientChainError, classify

# Blocks per eth_getLogs request. Hosted nodes cap the range (often 2,000-10,000 blocks) or the
# number of results; a refused range is split in half until it passes.
LOGS_CHUNK = 1_000
# Requests per JSON-RPC batch (hosted nodes cap batches at 100-1,000 calls).
BATCH_SIZE = 100
# Node error messages that mean "ask for a smaller range".
_RANGE_ERRORS = ("range", "too many", "limit", "exceed", "10000", "response size")

# The events the platform projects into its tables; every other escrow event is stored as is.
PAYMENT_CREATED = "PaymentCreated"
RUN_RELEASED = "RunReleased"
RUN_REFUNDED = "RunRefunded"
PAYMENT_RECLAIMED = "PaymentReclaimed"


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True)
class EscrowLog:
    """One decoded escrow event. `args` is JSON-ready: ints, checksummed addresses, 0x-hex bytes
    (lowercase, e.g. a runRef as "0x000...2a"), bools."""

    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str
    event: str
    args: dict[str, Any]


@dataclass(frozen=True)
class TxStatus:
    """What the node knows of a transaction: unknown (never seen or dropped), pending (in its
    mempool), or mined (with the receipt's block and success flag)."""

    state: str  # "unknown" | "pending" | "mined"
    block_number: int | None = None
    succeeded: bool | None = None

    @property
    def unknown(self) -> bool:
        return self.state == "unknown"


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Re-raise transport and node errors as ChainError (transient where a retry can help)."""
    try:
        yield
    except ChainError:
        raise
    except Exception as exc:  # noqa: BLE001 - classified and re-raised
        raise classify(exc) from exc


@cache
def _escrow_events() -> dict[str, dict[str, Any]]:
    """topic0 (0x-hex) -> event ABI, for every event the escrow declares."""
    return {
        "0x" + event_abi_to_log_topic(item).hex(): item
        for item in load_artifact(ESCROW).abi
        if item.get("type") == "event" and not item.get("anonymous")
    }


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value).lower()


class EscrowReader:
    def __init__(self, client: ChainClient, escrow: str) -> None:
        self.client = client
        self.escrow = client.contract(ESCROW, escrow)
        self.address = self.escrow.address

    # ------------------------------------------------------------------ blocks

    def head(self) -> int:
        with _translated():
            return int(self.client.w3.eth.block_number)

    def header(self, number: int) -> BlockHeader | None:
        """The canonical block at `number`, or None when the chain is not that long."""
        return self.headers([number])[number]

    def headers(self, numbers: Iterable[int]) -> dict[int, BlockHeader | None]:
        """Canonical headers for `numbers`, fetched in JSON-RPC batches."""
        wanted = list(dict.fromkeys(int(n) for n in numbers))
        found: dict[int, BlockHeader | None] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            requests = [("eth_getBlockByNumber", [hex(n), False]) for n in chunk]
            with _translated():
                responses = self.client.w3.provider.make_batch_request(requests)
            if not isinstance(responses, list) or len(responses) != len(chunk):
                raise ChainError(f"eth_getBlockByNumber batch failed: {responses!r}"[:500])
            for number, response in zip(chunk, responses, strict=True):
                if "error" in response:
                    raise ChainError(f"eth_getBlockByNumber({number}): {response['error']}")
                block = response.get("result")
                found[number] = (
                    None
                    if block is None
                    else BlockHeader(
                        number=int(block["number"], 16),
                        hash=block["hash"].lower(),
                        parent_hash=block["parentHash"].lower(),
                        timestamp=int(block["timestamp"], 16),
                    )
                )
        return found

    # ------------------------------------------------------------------ logs

    def logs(self, from_block: int, to_block: int, *, chunk: int = LOGS_CHUNK) -> list[EscrowLog]:
        """Every escrow event in blocks `from_block..to_block` (inclusive), in chain order."""
        found: list[EscrowLog] = []
        start = from_block
        while start <= to_block:
            end = min(to_block, start + chunk - 1)
            found.extend(self._logs_range(start, end))
            start = end + 1
        return found

    def _logs_range(self, start: int, end: int) -> list[EscrowLog]:
        try:
            raw = self.client.w3.eth.get_logs(
                {"address": self.address, "fromBlock": start, "toBlock": end}
            )
        except (Web3RPCError, ValueError) as exc:
            if end > start and any(word in str(exc).lower() for word in _RANGE_ERRORS):
                middle = (start + end) // 2
                return self._logs_range(start, middle) + self._logs_range(middle + 1, end)
            raise classify(exc) from exc
        except Exception as exc:  # noqa: BLE001 - classified and re-raised
            raise classify(exc) from exc
        decoded = [self._decode(entry) for entry in raw if not entry.get("removed")]
        return sorted(
            (log for log in decoded if log is not None),
            key=lambda log: (log.block_number, log.log_index),
        )

    def _decode(self, entry: Any) -> EscrowLog | None:
        topics = entry["topics"]
        abi = _escrow_events().get(_hex(topics[0])) if topics else None
        if abi is None:
            return None  # not an event of this ABI (cannot happen for our own contract)
        event = getattr(self.escrow.events, abi["name"])()
        data = event.process_log(entry)
        return EscrowLog(
            block_number=int(entry["blockNumber"]),
            block_hash=_hex(entry["blockHash"]),
            tx_hash=_hex(entry["transactionHash"]),
            log_index=int(entry["logIndex"]),
            address=Web3.to_checksum_address(entry["address"]),
            event=abi["name"],
            args={key: _plain(value) for key, value in dict(data["args"]).items()},
        )

    # ------------------------------------------------------------------ transactions

    def transaction(self, tx_hash: str) -> TxStatus:
        with _translated():
            receipt = self.client.rpc("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return TxStatus(
                    "mined",
                    block_number=int(receipt["blockNumber"], 16),
                    succeeded=int(receipt["status"], 16) == 1,
                )
            if self.client.rpc("eth_getTransactionByHash", [tx_hash]) is not None:
                return TxStatus("pending")
        return TxStatus("unknown")

    # ------------------------------------------------------------------ escrow state

    def _call(self, fn: Any, block: int | None) -> Any:
        with _translated():
            try:
                return fn.call(block_identifier=block if block is not None else "latest")
            except ContractLogicError as exc:
                raise self.client.errors.decode(exc.data) from None

    def payment(self, payment_id: int, *, block: int | None = None) -> Payment:
        view = self._call(self.escrow.functions.getPayment(payment_id), block)
        buyer, agent_id, token, price, runs, unsettled, fee_bps, expires_at = view
        return Payment(
            payment_id=payment_id,
            buyer=Web3.to_checksum_address(buyer),
            agent_id=int(agent_id),
            token=Web3.to_checksum_address(token),
            price=int(price),
            runs=int(runs),
            unsettled=int(unsettled),
            fee_bps=int(fee_bps),
            expires_at=int(expires_at),
        )

    def last_payment_id(self, *, block: int | None = None) -> int:
        return int(self._call(self.escrow.functions.lastPaymentId(), block))

    def is_run_settled(self, run_ref: str | bytes, *, block: int | None = None) -> bool:
        ref = run_ref if isinstance(run_ref, bytes) else bytes.fromhex(run_ref.removeprefix("0x"))
        return bool(self._call(self.escrow.functions.isRunSettled(ref), block))

    def token_balance(self, token: str, *, block: int | None = None) -> int:
        """The escrow's balance of `token` (ETH for the zero address) at `block`."""
        if int(token, 16) == 0:
            with _translated():
                return int(
                    self.client.w3.eth.get_balance(
                        self.address, block_identifier=block if block is not None else "latest"
                    )
                )
        erc20 = self.client.contract(MOCK_STABLECOIN, token)  # any ERC-20 ABI will do
        return int(self._call(erc20.functions.balanceOf(self.address), block))


__all__ = [
    "PAYMENT_CREATED",
    "PAYMENT_RECLAIMED",
    "RUN_REFUNDED",
    "RUN_RELEASED",
    "BlockHeader",
    "EscrowLog",
    "EscrowReader",
    "TransientChainError",
    "TxStatus",
]

"""A small web3.py client for the AgentNexus contracts.

`ChainClient` connects to one RPC URL, deploys artifacts, signs and sends transactions with a
private key, and turns reverts into `ContractRevert(name, args)` using every custom error declared
in the committed artifacts. `deploy_marketplace` deploys and wires the contracts; a management
command only needs to call it and store the returned `MarketplaceDeployment`.

web3 is imported only inside payments/chain; the rest of the project uses these objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted
from web3.logs import DISCARD
from web3.types import TxReceipt
from web3.utils.address import get_create_address

from payments.chain.artifacts import (
    ENTITLEMENTS,
    ESCROW,
    MOCK_STABLECOIN,
    all_error_abis,
    load_artifact,
)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
NATIVE_TOKEN = ZERO_ADDRESS
# Chains on which a MockStablecoin (open mint!) may be deployed: anvil / hardhat defaults.
LOCAL_CHAIN_IDS = frozenset({31337, 1337})
DEFAULT_FEE_BPS = 3000
DEFAULT_PAYMENT_TTL = 30 * 24 * 3600
GAS_MARGIN = 1.25
PRIORITY_FEE = 1_000_000_000  # 1 gwei tip on public chains
LOCAL_MAX_FEE = 100_000_000_000  # 100 gwei cap on dev chains (anvil starts at 1 gwei and falls)

DEFAULT_ADMIN_ROLE = b"\x00" * 32
ORCHESTRATOR_ROLE = bytes(Web3.keccak(text="ORCHESTRATOR_ROLE"))
PAUSER_ROLE = bytes(Web3.keccak(text="PAUSER_ROLE"))
MINTER_ROLE = bytes(Web3.keccak(text="MINTER_ROLE"))


class ChainError(RuntimeError):
    """The node is unreachable, on the wrong chain, or a transaction was not mined."""


class ContractRevert(ChainError):
    """A call or transaction reverted. `name` is the custom error ("Error" for a string reason,
    "Panic" for a panic code, "" if the revert carried no data); `args` are its decoded arguments,
    e.g. ContractRevert("RunAlreadySettled", (b"...",))."""

    def __init__(self, name: str, args: tuple = (), data: bytes = b"") -> None:
        super().__init__(name)
        self.name = name
        self.args = tuple(args)
        self.data = data

    def __str__(self) -> str:
        return f"{self.name}{self.args!r}" if self.name else "reverted without data"

    def __repr__(self) -> str:
        return f"ContractRevert({self.name!r}, {self.args!r})"

    def __reduce__(self):
        return (type(self), (self.name, self.args, self.data))


def selector(signature: str) -> bytes:
    """The 4-byte selector of a function or error signature, e.g. "RunAlreadySettled(bytes32)"."""
    return function_signature_to_4byte_selector(signature)


def _abi_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(component) for component in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


class ErrorDecoder:
    """Maps 4-byte selectors to the custom errors declared in the artifacts."""

    def __init__(self, error_abis: list[dict[str, Any]]) -> None:
        self._by_selector: dict[bytes, tuple[str, list[str]]] = {
            function_signature_to_4byte_selector("Error(string)"): ("Error", ["string"]),
            function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ["uint256"]),
        }
        for item in error_abis:
            types = [_abi_type(param) for param in item.get("inputs", [])]
            signature = f"{item['name']}({','.join(types)})"
            self._by_selector[function_signature_to_4byte_selector(signature)] = (
                item["name"],
                types,
            )

    def decode(self, data: bytes | str | None) -> ContractRevert:
        if isinstance(data, str):
            data = bytes.fromhex(data.removeprefix("0x")) if data else b""
        data = data or b""
        if len(data) < 4:
            return ContractRevert("", (), data)
        known = self._by_selector.get(data[:4])
        if known is None:
            return ContractRevert(f"0x{data[:4].hex()}", (data[4:],), data)
        name, types = known
        try:
            values = abi_decode(types, data[4:])
        except Exception:  # noqa: BLE001 - malformed revert data is reported, not decoded
            return ContractRevert(name, (data[4:],), data)
        values = [
            Web3.to_checksum_address(value) if kind == "address" else value
            for kind, value in zip(types, values, strict=True)
        ]
        return ContractRevert(name, tuple(values), data)


@dataclass(frozen=True)
class Deployed:
    address: str
    receipt: TxReceipt


class ChainClient:
    """Connect to `rpc_url`; `expected_chain_id` guards against signing for the wrong network."""

    def __init__(
        self,
        rpc_url: str,
        *,
        expected_chain_id: int | None = None,
        timeout: float = 30.0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.02,
    ) -> None:
        self.rpc_url = rpc_url
        # web3 asks eth_chainId before every call and transaction; cache that (and only that:
        # block-based caching would be wrong on a dev chain that reverts snapshots).
        self.w3 = Web3(
            Web3.HTTPProvider(
                rpc_url,
                request_kwargs={"timeout": timeout},
                cache_allowed_requests=True,
                cacheable_requests={"eth_chainId", "net_version"},
            )
        )
        self._contracts: dict[tuple[str, str], Contract] = {}
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except Exception as exc:  # noqa: BLE001 - any transport failure means "not reachable"
            raise ChainError(f"cannot reach an Ethereum node at {rpc_url}: {exc}") from exc
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise ChainError(
                f"{rpc_url} is chain {self.chain_id}, expected chain {expected_chain_id}"
            )
        self.errors = ErrorDecoder(all_error_abis())

    @property
    def is_local(self) -> bool:
        return self.chain_id in LOCAL_CHAIN_IDS

    # ------------------------------------------------------------------ accounts and contracts

    @staticmethod
    def account(key: str | LocalAccount) -> LocalAccount:
        return key if isinstance(key, LocalAccount) else Account.from_key(key)

    @staticmethod
    def create_key() -> str:
        """A new random private key (hex), e.g. for a throwaway test or benchmark account."""
        return Account.create().key.to_0x_hex()

    @staticmethod
    def to_checksum(address: str) -> str:
        return Web3.to_checksum_address(address)

    def contract(self, name: str, address: str) -> Contract:
        address = Web3.to_checksum_address(address)
        key = (name, address)
        if key not in self._contracts:
            self._contracts[key] = self.w3.eth.contract(
                address=address, abi=load_artifact(name).abi
            )
        return self._contracts[key]

    def deploy(self, name: str, *args: Any, key: str | LocalAccount) -> Deployed:
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(factory.constructor(*args), key=key)
        return Deployed(Web3.to_checksum_address(receipt["contractAddress"]), receipt)

    # ------------------------------------------------------------------ transactions and calls

    def transact(
        self,
        fn: ContractFunction | Any,
        *,
        key: str | LocalAccount,
        value: int = 0,
        gas: int | None = None,
    ) -> TxReceipt:
        """Sign and send `fn` (a bound contract function or constructor) and wait for the receipt.

        Gas is estimated (which surfaces a revert as ContractRevert before anything is sent)
        unless `gas` is given; a mined transaction that failed is replayed to find its reason.
        """
        account = self.account(key)
        params: dict[str, Any] = {
            "from": account.address,
            "value": value,
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": self.chain_id,
            **self._fees(),
        }
        try:
            if gas is None:
                params["gas"] = int(
                    fn.estimate_gas(params, block_identifier="pending") * GAS_MARGIN
                )
            else:
                params["gas"] = gas
            tx = fn.build_transaction(params)
        except ContractLogicError as exc:
            raise self.errors.decode(exc.data) from None
        return self._send(account, tx)

    def send_value(self, to: str, value: int, *, key: str | LocalAccount) -> TxReceipt:
        return self.send_call(to=to, data="0x", value=value, key=key)

    def send_call(
        self, *, to: str, data: str, value: int = 0, key: str | LocalAccount
    ) -> TxReceipt:
        """Send prepared call data (what a wallet does with eth_sendTransaction params)."""
        account = self.account(key)
        tx = {
            "from": account.address,
            "to": Web3.to_checksum_address(to),
            "data": data,
            "value": value,
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": self.chain_id,
            **self._fees(),
        }
        try:
            tx["gas"] = int(self.w3.eth.estimate_gas(tx, "pending") * GAS_MARGIN)
        except ContractLogicError as exc:
            raise self.errors.decode(exc.data) from None
        return self._send(account, tx)

    def call(self, fn: ContractFunction, *, sender: str | None = None, value: int = 0) -> Any:
        params: dict[str, Any] = {"value": value}
        if sender:
            params["from"] = Web3.to_checksum_address(sender)
        try:
            return fn.call(params)
        except ContractLogicError as exc:
            raise self.errors.decode(exc.data) from None

    def _fees(self) -> dict[str, int]:
        if self.is_local:
            # Dev chains: a generous cap and no tip; the node charges only its (tiny) base fee.
            return {"maxFeePerGas": LOCAL_MAX_FEE, "maxPriorityFeePerGas": 0}
        base_fee = int(
            self.rpc("eth_getBlockByNumber", ["latest", False]).get("baseFeePerGas", "0x0"), 16
        )
        return {"maxFeePerGas": 2 * base_fee + PRIORITY_FEE, "maxPriorityFeePerGas": PRIORITY_FEE}

    def _send(self, account: LocalAccount, tx: dict[str, Any]) -> TxReceipt:
        signed = account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout, poll_latency=self.poll_interval
            )
        except TimeExhausted as exc:
            raise ChainError(f"transaction {tx_hash.to_0x_hex()} not mined in time") from exc
        if receipt["status"] != 1:
            raise self._replay_failure(tx, receipt)
        return receipt

    def _replay_failure(self, tx: dict[str, Any], receipt: TxReceipt) -> ContractRevert:
        call = {k: tx[k] for k in ("from", "to", "value", "data", "gas") if k in tx}
        try:
            self.w3.eth.call(call, block_identifier=receipt["blockNumber"] - 1)
        except ContractLogicError as exc:
            return self.errors.decode(exc.data)
        except Exception:  # noqa: BLE001 - the replay is best effort
            return ContractRevert("", (), b"")
        return ContractRevert("", (), b"")

    @staticmethod
    def events(contract: Contract, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The decoded arguments of every `name` event that `contract` emitted in `receipt`."""
        event = getattr(contract.events, name)()
        return [dict(log["args"]) for log in event.process_receipt(receipt, errors=DISCARD)]

    # ------------------------------------------------------------------ reads and dev-chain helpers

    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    def has_code(self, address: str) -> bool:
        """Whether a contract lives at `address` (False after a dev chain was reset)."""
        return len(self.w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def block_timestamp(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def rpc(self, method: str, params: list | None = None) -> Any:
        response = self.w3.provider.make_request(method, params or [])
        if "error" in response:
            raise ChainError(f"{method}: {response['error']}")
        return response.get("result")

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert_to(self, snapshot_id: str) -> None:
        if not self.rpc("evm_revert", [snapshot_id]):
            raise ChainError(f"evm_revert({snapshot_id}) failed")

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """The next mined block gets exactly this timestamp (anvil/hardhat only)."""
        self.rpc("evm_setNextBlockTimestamp", [int(timestamp)])

    def set_storage(self, address: str, slot: int, value: int) -> None:
        """Overwrite one storage slot (anvil only; tests use it to reach otherwise unreachable states)."""
        self.rpc(
            "anvil_setStorageAt",
            [Web3.to_checksum_address(address), hex(slot), "0x" + value.to_bytes(32, "big").hex()],
        )

    def storage_at(self, address: str, slot: int) -> int:
        """One raw storage slot of `address`, as an integer."""
        raw = self.w3.eth.get_storage_at(Web3.to_checksum_address(address), slot)
        return int.from_bytes(raw, "big")

    def increase_time(self, seconds: int) -> None:
        """Move the dev chain's clock forward and mine a block (anvil/hardhat only)."""
        self.rpc("evm_increaseTime", [int(seconds)])
        self.rpc("evm_mine")


def mapping_slot(key: int, slot: int) -> int:
    """The storage slot of `mapping[key]` for a mapping with a value-type key declared at `slot`."""
    return int.from_bytes(Web3.keccak(key.to_bytes(32, "big") + slot.to_bytes(32, "big")), "big")


# ---------------------------------------------------------------------------------------------
# Deployment
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketplaceDeployment:
    """Everything a deployment record needs. `to_dict()` is JSON-serialisable."""

    chain_id: int
    entitlements: str
    escrow: str
    stablecoin: str | None
    stablecoin_is_mock: bool
    deployer: str
    admin: str
    orchestrator: str
    pauser: str
    fee_recipient: str
    fee_bps: int
    payment_ttl: int
    base_uri: str
    block_number: int
    entitlements_tx: str
    escrow_tx: str
    compiler_version: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def deploy_marketplace(
    client: ChainClient,
    *,
    deployer_key: str | LocalAccount,
    orchestrator: str,
    fee_recipient: str,
    admin: str | None = None,
    pauser: str | None = None,
    fee_bps: int = DEFAULT_FEE_BPS,
    payment_ttl: int = DEFAULT_PAYMENT_TTL,
    base_uri: str = "",
    stablecoin: str | None = None,
    deploy_mock_stablecoin: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> MarketplaceDeployment:
    """Deploy AgentNexusEntitlements + AgentNexusEscrow and wire them.

    - the entitlements contract is deployed naming the escrow (its precomputed address) as the
      one contract besides MINTER_ROLE holders allowed to mint and burn;
    - `orchestrator` gets ORCHESTRATOR_ROLE; `pauser` (default: the admin) gets PAUSER_ROLE on both;
    - fee (`fee_bps`, default 3000 = 30%) and `fee_recipient` are set in the escrow constructor;
    - `stablecoin` is allow-listed; on a local chain (31337/1337) with no stablecoin given, a
      MockStablecoin (6 decimals, open mint) is deployed and allow-listed. Never on other chains.
    - finally, if `admin` differs from the deployer (e.g. a multisig), the admin role moves to it
      on both contracts and the deployer renounces it.
    """
    say = log or (lambda message: None)
    deployer = client.account(deployer_key)
    admin = Web3.to_checksum_address(admin or deployer.address)
    pauser = Web3.to_checksum_address(pauser or admin)
    orchestrator = Web3.to_checksum_address(orchestrator)
    fee_recipient = Web3.to_checksum_address(fee_recipient)
    if deploy_mock_stablecoin is None:
        deploy_mock_stablecoin = stablecoin is None and client.is_local
    if deploy_mock_stablecoin and not client.is_local:
        raise ValueError(
            f"refusing to deploy MockStablecoin (open mint) on chain {client.chain_id}"
        )
    if deploy_mock_stablecoin and stablecoin:
        raise ValueError("give either stablecoin or deploy_mock_stablecoin, not both")

    def send(fn: Any) -> TxReceipt:
        return client.transact(fn, key=deployer)

    # The entitlements contract names the escrow immutably, so it is deployed with the escrow's
    # precomputed CREATE address (the deployer's next nonce) and the escrow follows at that nonce.
    nonce = client.w3.eth.get_transaction_count(deployer.address, "pending")
    predicted_escrow = get_create_address(deployer.address, nonce + 1)
    entitlements = client.deploy(
        ENTITLEMENTS, deployer.address, predicted_escrow, base_uri, key=deployer
    )
    say(f"{ENTITLEMENTS} at {entitlements.address}")
    escrow = client.deploy(
        ESCROW,
        deployer.address,
        entitlements.address,
        fee_recipient,
        fee_bps,
        payment_ttl,
        key=deployer,
    )
    if escrow.address != predicted_escrow:
        raise ChainError(
            f"escrow landed at {escrow.address}, not at {predicted_escrow}: another transaction "
            "from the deployer key interleaved; deploy again with a key nothing else uses"
        )
    say(f"{ESCROW} at {escrow.address}")
    ent = client.contract(ENTITLEMENTS, entitlements.address)
    esc = client.contract(ESCROW, escrow.address)
    send(esc.functions.grantRole(ORCHESTRATOR_ROLE, orchestrator))
    send(esc.functions.grantRole(PAUSER_ROLE, pauser))
    send(ent.functions.grantRole(PAUSER_ROLE, pauser))

    if deploy_mock_stablecoin:
        stablecoin = client.deploy(MOCK_STABLECOIN, key=deployer).address
        say(f"{MOCK_STABLECOIN} at {stablecoin}")
    if stablecoin:
        stablecoin = Web3.to_checksum_address(stablecoin)
        send(esc.functions.setTokenAllowed(stablecoin, True))

    if admin != deployer.address:
        for contract in (ent, esc):
            send(contract.functions.grantRole(DEFAULT_ADMIN_ROLE, admin))
            send(contract.functions.renounceRole(DEFAULT_ADMIN_ROLE, deployer.address))
        say(f"admin role moved to {admin}")

    return MarketplaceDeployment(
        chain_id=client.chain_id,
        entitlements=entitlements.address,
        escrow=escrow.address,
        stablecoin=stablecoin,
        stablecoin_is_mock=bool(deploy_mock_stablecoin),
        deployer=deployer.address,
        admin=admin,
        orchestrator=orchestrator,
        pauser=pauser,
        fee_recipient=fee_recipient,
        fee_bps=fee_bps,
        payment_ttl=payment_ttl,
        base_uri=base_uri,
        block_number=int(escrow.receipt["blockNumber"]),
        entitlements_tx=entitlements.receipt["transactionHash"].to_0x_hex(),
        escrow_tx=escrow.receipt["transactionHash"].to_0x_hex(),
        compiler_version=load_artifact(ESCROW).compiler_version,
    )

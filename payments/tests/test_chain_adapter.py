"""payments.chain: artifacts, anvil process control, ChainClient, revert decoding, deployment."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from payments.chain.anvil import Anvil, AnvilStartError, find_anvil, free_port
from payments.chain.artifacts import (
    ARTIFACTS_DIR,
    CONTRACTS_DIR,
    ArtifactNotFound,
    artifact_names,
    load_artifact,
)
from payments.chain.client import (
    DEFAULT_ADMIN_ROLE,
    ORCHESTRATOR_ROLE,
    PAUSER_ROLE,
    ChainClient,
    ChainError,
    ContractRevert,
    deploy_marketplace,
    selector,
)
from payments.chain.marketplace import run_ref
from payments.tests.chain_env import ChainEnv, require_or_skip, reverts

CONTRACT_NAMES = [
    "AgentNexusEntitlements",
    "AgentNexusEscrow",
    "FeeOnTransferToken",
    "MockStablecoin",
    "ReentrantReceiver",
    "ReentrantToken",
]


# --------------------------------------------------------------------------------- artifacts


def test_committed_artifacts_are_complete():
    assert artifact_names() == CONTRACT_NAMES
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert artifact.name == name
        assert artifact.bytecode.startswith("0x60") and len(artifact.deployed_bytecode) > 100
        assert artifact.compiler_version.startswith("0.8.37+")
        assert artifact.compiler_settings == {
            "evmVersion": "cancun",
            "metadata": {"bytecodeHash": "ipfs"},
            "optimizer": {"enabled": True, "runs": 200},
            "viaIR": False,
        }
    with pytest.raises(ArtifactNotFound):
        load_artifact("Nope")


def test_artifacts_match_a_fresh_build(tmp_path: Path):
    """The committed artifacts are exactly what contracts/build.mjs produces from the sources."""
    node = shutil.which("node")
    if node is None or not (CONTRACTS_DIR / "node_modules" / "solc").is_dir():
        require_or_skip("node and contracts/node_modules are needed: npm ci --prefix contracts")
    subprocess.run(
        [node, str(CONTRACTS_DIR / "build.mjs"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    fresh = sorted(p.name for p in tmp_path.glob("*.json"))
    assert fresh == sorted(p.name for p in ARTIFACTS_DIR.glob("*.json"))
    for name in fresh:
        committed = (ARTIFACTS_DIR / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, f"{name} is stale: run build.mjs"


def _layout(name: str) -> dict[str, tuple[int, int]]:
    storage = load_artifact(name).storage_layout["storage"]
    return {item["label"]: (int(item["slot"]), item["offset"]) for item in storage}


def _struct_bytes(name: str, struct: str) -> int:
    types = load_artifact(name).storage_layout["types"]
    (size,) = [
        t["numberOfBytes"] for key, t in types.items() if key.startswith(f"t_struct({struct})")
    ]
    return int(size)


def test_storage_is_packed():
    escrow = _layout("AgentNexusEscrow")
    # paused, the payment counter, the fee and its recipient share one slot
    assert {
        escrow[k][0] for k in ("_paused", "_lastPaymentId", "platformFeeBps", "feeRecipient")
    } == {1}
    assert escrow["_tokenCount"] == (5, 0)  # test_set_token_allowed_stops_at_65535 relies on it
    assert _struct_bytes("AgentNexusEscrow", "Payment") == 64  # two slots per payment
    assert _struct_bytes("AgentNexusEscrow", "TokenConfig") == 32
    assert _struct_bytes("AgentNexusEntitlements", "Agent") == 32  # one slot per agent


# --------------------------------------------------------------------------------- anvil


def test_anvil_starts_on_a_free_loopback_port_and_stops():
    if find_anvil() is None:
        require_or_skip("anvil not found")
    with Anvil.start(chain_id=4242) as node:
        assert node.rpc_url.startswith("http://127.0.0.1:")
        client = ChainClient(node.rpc_url, expected_chain_id=4242)
        assert client.chain_id == 4242 and not client.is_local
        with pytest.raises(ChainError, match="expected chain 1"):
            ChainClient(node.rpc_url, expected_chain_id=1)
    assert node.process.poll() is not None
    with pytest.raises(ChainError, match="cannot reach"):
        ChainClient(node.rpc_url)


def test_anvil_reports_a_port_in_use(anvil_node):
    with pytest.raises(AnvilStartError):
        Anvil.start(port=anvil_node.port, timeout=5)
    assert free_port() != anvil_node.port


# --------------------------------------------------------------------------------- revert decoding


def test_error_decoder_handles_every_shape(env: ChainEnv):
    decode = env.client.errors.decode

    def word(value: int) -> bytes:
        return value.to_bytes(32, "big")

    error = decode(selector("Error(string)") + word(32) + word(4) + b"boom".ljust(32, b"\0"))
    assert (error.name, error.args) == ("Error", ("boom",))
    panic = decode("0x" + (selector("Panic(uint256)") + word(0x11)).hex())
    assert (panic.name, panic.args) == ("Panic", (0x11,))
    custom = decode(selector("RunAlreadySettled(bytes32)") + run_ref(5))
    assert (custom.name, custom.args) == ("RunAlreadySettled", (run_ref(5),))
    unknown = decode(bytes.fromhex("deadbeef") + b"\x01")
    assert unknown.name == "0xdeadbeef"
    assert decode(b"").name == "" and decode(None).name == ""
    assert str(decode(b"")) == "reverted without data"
    copy = pickle.loads(pickle.dumps(custom))  # noqa: S301 - our own object
    assert (copy.name, copy.args) == (custom.name, custom.args)
    assert repr(custom) == f"ContractRevert('RunAlreadySettled', ({run_ref(5)!r},))"


def test_a_mined_failure_is_replayed_for_its_reason(env: ChainEnv):
    """With an explicit gas limit nothing is estimated: the transaction is mined, fails, and
    the client replays it to report the custom error."""
    fn = env.escrow.functions.release(1, run_ref(1))
    with pytest.raises(ContractRevert) as info:
        env.client.transact(fn, key=env.acct.keys[1], gas=200_000)
    assert info.value.name == "UnknownPayment"


def test_reads_decode_reverts_too(env: ChainEnv):
    with reverts("ERC1155InvalidArrayLength", 1, 2):
        env.call(env.entitlements.functions.balanceOfBatch([env.acct.buyer, env.acct.buyer2], [1]))


# --------------------------------------------------------------------------------- deployment


def test_deploy_marketplace_wires_everything(env: ChainEnv):
    d, a = env.deployment, env.acct
    ent, esc = env.entitlements.functions, env.escrow.functions
    assert env.call(ent.escrow()) == d.escrow
    assert env.call(esc.entitlements()) == d.entitlements
    assert env.call(esc.hasRole(ORCHESTRATOR_ROLE, a.orchestrator))
    for contract in (esc, ent):
        assert env.call(contract.hasRole(PAUSER_ROLE, a.pauser))
        assert env.call(contract.hasRole(DEFAULT_ADMIN_ROLE, a.admin))
    assert env.call(esc.tokenConfig(d.stablecoin)) == (True, True, 1)
    assert env.call(env.usdc.functions.decimals()) == 6
    assert d.stablecoin_is_mock and d.chain_id == 31337 and d.fee_bps == 3000
    assert json.loads(json.dumps(d.to_dict()))["escrow"] == d.escrow


def test_deploy_marketplace_hands_admin_to_a_multisig(env: ChainEnv):
    a = env.acct
    d = deploy_marketplace(
        env.client,
        deployer_key=a.keys[9],
        admin=a.stranger,  # stands in for the multisig
        orchestrator=a.orchestrator,
        fee_recipient=a.fee_recipient,
        stablecoin=env.usdc.address,
    )
    assert not d.stablecoin_is_mock and d.stablecoin == env.usdc.address
    assert d.pauser == a.stranger  # defaults to the admin
    for name, address in (
        ("AgentNexusEscrow", d.escrow),
        ("AgentNexusEntitlements", d.entitlements),
    ):
        contract = env.client.contract(name, address).functions
        assert env.call(contract.hasRole(DEFAULT_ADMIN_ROLE, a.stranger))
        assert not env.call(contract.hasRole(DEFAULT_ADMIN_ROLE, d.deployer))


def test_deploy_marketplace_refuses_a_mock_stablecoin_off_local_chains(env: ChainEnv):
    with Anvil.start(chain_id=8453) as node:
        client = ChainClient(node.rpc_url)
        with pytest.raises(ValueError, match="refusing"):
            deploy_marketplace(
                client,
                deployer_key=env.acct.keys[0],
                orchestrator=env.acct.orchestrator,
                fee_recipient=env.acct.fee_recipient,
                deploy_mock_stablecoin=True,
            )
        d = deploy_marketplace(
            client,
            deployer_key=env.acct.keys[0],
            orchestrator=env.acct.orchestrator,
            fee_recipient=env.acct.fee_recipient,
        )
        assert d.stablecoin is None and not d.stablecoin_is_mock
    with pytest.raises(ValueError, match="not both"):
        deploy_marketplace(
            env.client,
            deployer_key=env.acct.keys[0],
            orchestrator=env.acct.orchestrator,
            fee_recipient=env.acct.fee_recipient,
            stablecoin=env.usdc.address,
            deploy_mock_stablecoin=True,
        )


# --------------------------------------------------------------------------------- run references


def test_run_ref():
    assert run_ref(1) == b"\x00" * 31 + b"\x01"
    some = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert run_ref(some) == some.int.to_bytes(32, "big")
    assert run_ref(b"\x01" * 32) == b"\x01" * 32
    for bad in (0, -1, 2**256, b"\x00" * 32):
        with pytest.raises(ValueError):
            run_ref(bad)
    for bad in (b"short", "1"):
        with pytest.raises((TypeError, ValueError)):
            run_ref(bad)
    with pytest.raises(TypeError):
        run_ref(True)

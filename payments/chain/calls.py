"""Unsigned calls a buyer's wallet signs (EIP-1193 eth_sendTransaction params)."""

from __future__ import annotations

from payments.chain.artifacts import MOCK_STABLECOIN
from payments.chain.client import NATIVE_TOKEN
from payments.chain.marketplace import Marketplace


def purchase_calls(
    market: Marketplace, *, agent_id: int, token: str, runs: int, total: int, buyer: str
) -> list[dict]:
    """[approve (ERC-20 only, when the allowance is short), purchase]: each {to, data, value}."""
    client = market.client
    token = client.to_checksum(token)
    calls: list[dict] = []
    is_eth = int(token, 16) == int(NATIVE_TOKEN, 16)
    if not is_eth:
        erc20 = client.contract(MOCK_STABLECOIN, token)  # the ERC-20 ABI subset we need
        allowance = client.call(
            erc20.functions.allowance(client.to_checksum(buyer), market.escrow.address)
        )
        if allowance < total:
            calls.append(
                {
                    "step": "approve",
                    "to": token,
                    "data": erc20.encode_abi("approve", args=[market.escrow.address, total]),
                    "value": "0x0",
                }
            )
    calls.append(
        {
            "step": "purchase",
            "to": market.escrow.address,
            "data": market.escrow.encode_abi("purchase", args=[agent_id, token, runs]),
            "value": hex(total if is_eth else 0),
        }
    )
    return calls


def transaction_status(market: Marketplace, tx_hash: str) -> dict:
    """{"state": "unknown" | "pending" | "mined" | "reverted", "block", "confirmations", "reason"}"""
    client = market.client
    w3 = client.w3
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
    except Exception:  # noqa: BLE001 - TransactionNotFound and transport errors alike
        try:
            w3.eth.get_transaction(tx_hash)
            return {"state": "pending", "block": None, "confirmations": 0, "reason": ""}
        except Exception:  # noqa: BLE001
            return {"state": "unknown", "block": None, "confirmations": 0, "reason": ""}
    block = int(receipt["blockNumber"])
    confirmations = max(0, int(w3.eth.block_number) - block + 1)
    if receipt["status"] != 1:
        tx = w3.eth.get_transaction(tx_hash)
        call = {"from": tx["from"], "to": tx["to"], "value": tx["value"], "data": tx["input"],
                "gas": tx["gas"]}  # fmt: skip
        reason = str(client._replay_failure(call, receipt))
        return {
            "state": "reverted",
            "block": block,
            "confirmations": confirmations,
            "reason": reason,
        }
    return {"state": "mined", "block": block, "confirmations": confirmations, "reason": ""}

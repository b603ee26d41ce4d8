"""Contract-wallet signatures (ERC-1271): ask the account itself whether a signature is valid.

A smart-contract wallet (a multisig, an ERC-4337 account) has no private key whose signature
could be recovered; instead it implements

    function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4)

and returns the magic value 0x1626ba7e for a signature it accepts. `erc1271_check` makes that
call. The result is read like OpenZeppelin's SignatureChecker: the first 32 bytes returned must be
exactly the magic value followed by zeros; a revert, an empty or short answer means "invalid".
"""

from __future__ import annotations

import enum

import requests
from eth_abi import encode as abi_encode
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    ProviderConnectionError,
    Web3RPCError,
)

from payments.chain.client import ChainClient, ChainError, selector

ERC1271_MAGIC_VALUE = bytes.fromhex("1626ba7e")
IS_VALID_SIGNATURE = selector("isValidSignature(bytes32,bytes)")
# Gas allowed to the wallet's check: bounds a hostile contract's work on the node; a multisig
# checking a handful of owner signatures needs well under this.
ERC1271_GAS = 1_000_000


class ContractSignature(enum.Enum):
    NOT_A_CONTRACT = "not_a_contract"  # no code at the address: only a key can sign for it
    VALID = "valid"
    INVALID = "invalid"


def erc1271_check(
    client: ChainClient, *, address: str, message_hash: bytes, signature: bytes
) -> ContractSignature:
    """Whether the contract at `address` accepts `signature` for `message_hash` (ERC-1271).

    Raises ChainError when the node cannot be reached (the caller cannot tell valid from not).
    """
    if len(message_hash) != 32:
        raise ValueError("message_hash must be 32 bytes")
    target = client.to_checksum(address)
    try:
        if not client.has_code(target):
            return ContractSignature.NOT_A_CONTRACT
        data = IS_VALID_SIGNATURE + abi_encode(["bytes32", "bytes"], [message_hash, signature])
        result = bytes(
            client.w3.eth.call({"to": target, "data": "0x" + data.hex(), "gas": ERC1271_GAS})
        )
    except (ContractLogicError, BadFunctionCallOutput):
        return ContractSignature.INVALID
    except (requests.exceptions.RequestException, ProviderConnectionError, OSError) as exc:
        raise ChainError(f"cannot reach the chain node to check a signature: {exc}") from exc
    except Web3RPCError as exc:
        # A node answering with an error for this call (e.g. out of gas in the wallet's code).
        if "execution reverted" in str(exc).lower() or "out of gas" in str(exc).lower():
            return ContractSignature.INVALID
        raise ChainError(f"the chain node refused the signature check: {exc}") from exc
    if result[:32] == ERC1271_MAGIC_VALUE.ljust(32, b"\x00"):
        return ContractSignature.VALID
    return ContractSignature.INVALID

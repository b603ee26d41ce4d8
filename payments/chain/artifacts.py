"""Load the committed contract artifacts (ABI + bytecode) written by contracts/build.mjs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = REPO_ROOT / "contracts"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"

# The two production contracts; every other artifact is a local/test helper.
ENTITLEMENTS = "AgentNexusEntitlements"
ESCROW = "AgentNexusEscrow"
MOCK_STABLECOIN = "MockStablecoin"


class ArtifactNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    compiler_settings: dict[str, Any]
    storage_layout: dict[str, Any]

    def errors(self) -> list[dict[str, Any]]:
        return [item for item in self.abi if item.get("type") == "error"]


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactNotFound(f"{path} not found; run `node contracts/build.mjs`") from None
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler_version=data["compiler"]["version"],
        compiler_settings=data["compiler"]["settings"],
        storage_layout=data.get("storageLayout") or {},
    )


def artifact_names(directory: Path = ARTIFACTS_DIR) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.json"))


def all_error_abis(directory: Path = ARTIFACTS_DIR) -> list[dict[str, Any]]:
    """Every custom error declared in any artifact (ours and the OpenZeppelin ones they inherit)."""
    errors: list[dict[str, Any]] = []
    for name in artifact_names(directory):
        errors.extend(load_artifact(name, directory).errors())
    return errors

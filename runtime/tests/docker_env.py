"""Docker images for runtime tests, built once per session.

`scripts/docker_images.sh` builds (or finds up to date) the base images and the catalog agents
(agents/catalog/<slug>, tagged agentnexus/catalog-<slug>:<version>); the
test-only misbehaving agent (runtime/tests/agents/misbehave) is built here through the backend's
own `build_image`, in three start-up variants. Without a usable Docker engine the tests are
skipped locally and fail in CI (`CI` set): CI must never pass by skipping the sandbox.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "docker_images.sh"
CATALOG = ROOT / "agents" / "catalog"
MISBEHAVE = Path(__file__).resolve().parent / "agents" / "misbehave"
SDK_IMAGE = "agentnexus/agent-python:1"
MISBEHAVE_REPO = "agentnexus/test-misbehave"
STARTUPS = ("serve", "exit", "hang")


def unavailable(message: str):
    """Fail in CI, skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"Docker is required in CI: {message}", pytrace=False)
    pytest.skip(f"Docker is not usable here: {message}")


def example_image_tags() -> dict[str, str]:
    """slug -> the tag scripts/docker_images.sh gives each catalog agent."""
    tags = {}
    for manifest in sorted(CATALOG.glob("*/agent.yaml")):
        data = yaml.safe_load(manifest.read_text())
        tags[data["slug"]] = f"agentnexus/catalog-{manifest.parent.name}:{data['version']}"
    return tags


def _tree_hash(path: Path, extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def build_images(backend) -> dict:
    """Build what the runtime tests need; returns {"examples": {slug: tag}, "misbehave":
    {startup: tag}}."""
    try:
        done = subprocess.run(
            [str(SCRIPT)], capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"{SCRIPT.name} could not run: {exc}")
    if done.returncode != 0:
        unavailable(f"{SCRIPT.name} failed:\n{done.stderr[-3000:]}")
    sdk_id = backend.api.inspect_image(SDK_IMAGE)["Id"]
    source = _tree_hash(MISBEHAVE, sdk_id)
    misbehave = {}
    for startup in STARTUPS:
        tag = f"{MISBEHAVE_REPO}:{startup}"
        labels = {"agentnexus.test": "1", "agentnexus.source-hash": f"{source}-{startup}"}
        if backend.image_exists(tag):
            current = backend.api.inspect_image(tag)["Config"].get("Labels") or {}
            if current.get("agentnexus.source-hash") == labels["agentnexus.source-hash"]:
                misbehave[startup] = tag
                continue
        backend.build_image(
            context_dir=MISBEHAVE,
            tag=tag,
            labels=labels,
            buildargs={"BASE_IMAGE": SDK_IMAGE, "STARTUP": startup},
            timeout_s=300,
        )
        misbehave[startup] = tag
    return {"examples": example_image_tags(), "misbehave": misbehave}

"""Shared fixtures for runtime tests: the agent images (built once per session, real Docker)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def runtime_images() -> dict:
    """{"examples": {slug: image}, "misbehave": {"serve" | "exit" | "hang": image}}."""
    from runtime.backends.docker import DockerBackend
    from runtime.tests.docker_env import build_images, unavailable

    try:
        backend = DockerBackend(socket_root="/tmp/agentnexus-test-build")  # noqa: S108
        backend.api.ping()
    except Exception as exc:  # noqa: BLE001 - any failure (InfrastructureError, ...): no Docker
        unavailable(str(exc))
    return build_images(backend)


@pytest.fixture(scope="session")
def example_images(runtime_images) -> dict[str, str]:
    """slug -> image of each catalog agent (agents/catalog/<slug>), built by docker_images.sh."""
    return runtime_images["examples"]


@pytest.fixture(scope="session")
def misbehave_image(runtime_images) -> str:
    """The test agent that misbehaves as input["mode"] asks (runtime/tests/agents/misbehave)."""
    return runtime_images["misbehave"]["serve"]


@pytest.fixture(scope="session")
def misbehave_images(runtime_images) -> dict[str, str]:
    """Its start-up variants: "serve", "exit" (exits before serving), "hang" (never serves)."""
    return runtime_images["misbehave"]

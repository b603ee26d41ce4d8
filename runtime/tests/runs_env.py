"""Helpers for run tests: catalog rows for the agents in agents/catalog/ and waiting on runs."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import yaml
from django.conf import settings

from marketplace.services import agent_set_current_version
from marketplace.tests.factories import AgentFactory, AgentVersionFactory, UserFactory
from runtime.models import TERMINAL, Run

EXAMPLES = Path(settings.BASE_DIR) / "agents" / "catalog"


def manifest(slug: str) -> dict:
    return yaml.safe_load((EXAMPLES / slug / "agent.yaml").read_text())


def example_input(slug: str) -> dict:
    examples = manifest(slug).get("examples") or [{"input": {}}]
    return examples[0]["input"]


def example_agent(slug: str, *, image: str, **version_fields):
    """An agent and current version for a catalog agent (agents/catalog/<slug>/agent.yaml)."""
    data = manifest(slug)
    agent = AgentFactory(
        slug=f"{slug}-{time.monotonic_ns()}", name=data.get("name", slug), price=None
    )
    resources = data.get("resources", {})
    fields = {
        "agent": agent,
        "version": str(data.get("version", "1.0.0")),
        "image_ref": image,
        "input_schema": data["input_schema"],
        "output_schema": data["output_schema"],
        "example_input": example_input(slug),
        "memory_mb": resources.get("memory_mb", 128),
        "timeout_seconds": resources.get("timeout_s", 30),
        # Free: these tests are about the runtime; paid runs are tested in payments.
        "price": Decimal("0"),
    }
    fields.update(version_fields)
    version = AgentVersionFactory(**fields)
    agent_set_current_version(agent=agent, version=version)
    agent.refresh_from_db()
    return agent


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")


def wait_terminal(run: Run, timeout: float = 60.0) -> Run:
    def done():
        run.refresh_from_db()
        return run.status in TERMINAL

    wait_for(done, timeout=timeout, message=f"run {run.public_id} still {run.status}")
    return run


__all__ = ["UserFactory", "example_agent", "example_input", "manifest", "wait_for", "wait_terminal"]

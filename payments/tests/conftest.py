"""Fixtures for the contract tests: one anvil per session, a snapshot per test.

These tests need no database. anvil comes from `npm ci --prefix contracts`; without it the tests
skip locally and FAIL when CI is set.
"""

from __future__ import annotations

import pytest

from payments.tests.chain_env import ChainEnv, build_env, start_anvil


@pytest.fixture(scope="session")
def anvil_node():
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def deployed_env(anvil_node) -> ChainEnv:
    return build_env(anvil_node)


@pytest.fixture
def env(deployed_env: ChainEnv):
    """The deployed marketplace; every change a test makes is rolled back afterwards."""
    client = deployed_env.client
    snapshot = client.snapshot()
    try:
        yield deployed_env
    finally:
        client.revert_to(snapshot)


# Paid-run fixtures (a Django-recorded deployment with paid agents): paid_chain, paid_market.
from payments.tests.paid_env import paid_chain, paid_market  # noqa: E402, F401

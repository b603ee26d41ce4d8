"""An agent's manifest (permissions.min_kyc_level) raises the KYC level needed to buy or run it;
the manifest is the one of the version the agent runs now."""

import pytest

from compliance.kyc.selectors import kyc_required_level_for_agent
from marketplace.services import agent_set_current_version
from marketplace.tests.factories import AgentFactory, AgentVersionFactory

pytestmark = pytest.mark.django_db


def test_the_current_versions_manifest_sets_the_minimum_level():
    agent = AgentFactory()
    assert kyc_required_level_for_agent(agent=agent) == 0, "no manifest: no minimum"
    strict = AgentVersionFactory(
        agent=agent, version="2.0.0", manifest={"permissions": {"min_kyc_level": 2}}
    )
    assert kyc_required_level_for_agent(agent=agent) == 0, "only the current version counts"
    agent_set_current_version(agent=agent, version=strict)
    assert kyc_required_level_for_agent(agent=agent) == 2

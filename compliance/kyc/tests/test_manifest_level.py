"""An agent's manifest (permissions.min_kyc_level) raises the KYC level needed to buy or run it."""

import pytest

from agents.models import Submission
from compliance.kyc.selectors import kyc_required_level_for_agent
from marketplace.tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def publish(agent, *, status: str, level: int) -> None:
    Submission.objects.create(
        developer=agent.developer,
        agent=agent,
        slug=agent.slug,
        version=agent.current_version.version,
        manifest={"permissions": {"min_kyc_level": level}},
        archive=b"",
        archive_sha256="",
        archive_size=0,
        status=status,
    )


def test_the_approved_manifest_sets_the_minimum_level():
    agent = AgentFactory()
    assert kyc_required_level_for_agent(agent=agent) == 0
    publish(agent, status="rejected", level=3)
    assert kyc_required_level_for_agent(agent=agent) == 0, "only the approved manifest counts"
    publish(agent, status="approved", level=2)
    assert kyc_required_level_for_agent(agent=agent) == 2

import pytest
from rest_framework.test import APIClient

from marketplace.tests.factories import AgentFactory, DeveloperProfileFactory, UserFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def developer(db):
    return DeveloperProfileFactory()


@pytest.fixture
def agent(db):
    return AgentFactory()

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentnexus.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from marketplace.models import Agent, Review
from marketplace.services import (
    agent_version_create,
    review_create,
    review_delete,
    review_update,
)
from marketplace.tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_review_keeps_average_and_count(agent):
    review_create(agent=agent, author=UserFactory(), rating=5, body="Great")
    review_create(agent=agent, author=UserFactory(), rating=2, body="Meh!")
    agent.refresh_from_db()
    assert (agent.rating_avg, agent.rating_count) == (Decimal("3.50"), 2)


def test_one_review_per_user_and_no_self_review(agent, user):
    review_create(agent=agent, author=user, rating=4, body="Nice one")
    with pytest.raises(ConflictError):
        review_create(agent=agent, author=user, rating=5, body="Again")
    with pytest.raises(PermissionDeniedError):
        review_create(agent=agent, author=agent.developer.user, rating=5, body="Mine!")
    assert Review.objects.count() == 1


@pytest.mark.parametrize(
    ("rating", "body", "field"),
    [
        (0, "fine text", "rating"),
        (6, "fine text", "rating"),
        (3, "  ", "body"),
        (3, "x" * 2001, "body"),
    ],
)
def test_review_validation_names_the_field(agent, user, rating, body, field):
    with pytest.raises(ApplicationError) as exc:
        review_create(agent=agent, author=user, rating=rating, body=body)
    assert field in exc.value.fields
    assert Review.objects.count() == 0


def test_only_the_author_edits_or_deletes(agent, user):
    review = review_create(agent=agent, author=user, rating=4, body="Good")
    other = UserFactory()
    with pytest.raises(PermissionDeniedError):
        review_update(review=review, author=other, rating=1, body="Bad!")
    with pytest.raises(PermissionDeniedError):
        review_delete(review=review, author=other)


actions = st.lists(
    st.tuples(
        st.sampled_from(["create", "update", "delete"]), st.integers(0, 4), st.integers(1, 5)
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=actions)
def test_rating_invariant_holds_through_any_sequence(agent, steps):
    """Whatever users do, the denormalised figures equal the reviews' true mean and count."""
    for leftover in Review.objects.filter(agent=agent).select_related("author"):
        review_delete(review=leftover, author=leftover.author)  # reset through the service
    users = [UserFactory(email=f"prop{i}@example.com") for i in range(5)]
    for action, who, stars in steps:
        own = Review.objects.filter(agent=agent, author=users[who]).first()
        if action == "create" and own is None:
            review_create(agent=agent, author=users[who], rating=stars, body="ok ok")
        elif action == "update" and own is not None:
            review_update(review=own, author=users[who], rating=stars, body="changed")
        elif action == "delete" and own is not None:
            review_delete(review=own, author=users[who])
    agent.refresh_from_db()
    ratings = list(Review.objects.filter(agent=agent).values_list("rating", flat=True))
    expected = (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01")) if ratings else 0
    assert agent.rating_count == len(ratings)
    assert agent.rating_avg == expected


def test_version_rejects_invalid_schema_and_example(agent):
    with pytest.raises(ApplicationError) as exc:
        agent_version_create(
            agent=agent, version="2.0.0", image_ref="x:1", input_schema={"type": 12},
            output_schema={"type": "object"}, price=Decimal("1"),
        )  # fmt: skip
    assert "input_schema" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        agent_version_create(
            agent=agent, version="2.0.0", image_ref="x:1",
            input_schema={"type": "object", "required": ["a"]}, output_schema={"type": "object"},
            example_input={}, price=Decimal("1"),
        )  # fmt: skip
    assert "example_input" in exc.value.fields


def test_version_limits_and_semver_are_enforced(agent):
    with pytest.raises(ApplicationError) as exc:
        agent_version_create(
            agent=agent, version="v2", image_ref="x:1", input_schema={"type": "object"},
            output_schema={"type": "object"}, price=Decimal("-1"), memory_mb=9000, timeout_seconds=4000,
        )  # fmt: skip
    assert {"version", "price", "memory_mb", "timeout_seconds"} <= set(exc.value.fields)


def test_new_version_becomes_current_and_old_one_stays(agent):
    old = agent.current_version
    new = agent_version_create(
        agent=agent, version="9.0.0", image_ref="x:9", input_schema={"type": "object"},
        output_schema={"type": "object"}, price=Decimal("3"),
    )  # fmt: skip
    agent.refresh_from_db()
    assert agent.current_version == new
    assert agent.versions.filter(pk=old.pk).exists()
    assert Agent.objects.get(pk=agent.pk).current_version.version == "9.0.0"


def test_agent_factory_default_has_price():
    assert AgentFactory().current_version.price == Decimal("1.00")


def test_staff_moderation_keeps_the_rating_in_step(agent, admin_client):
    keep = review_create(agent=agent, author=UserFactory(), rating=5, body="Great")
    spam = review_create(agent=agent, author=UserFactory(), rating=1, body="spam spam")
    response = admin_client.post(
        "/admin/marketplace/review/",
        {"action": "delete_selected", "_selected_action": [spam.pk], "post": "yes"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert list(Review.objects.all()) == [keep]
    assert (agent.rating_avg, agent.rating_count) == (Decimal("5.00"), 1)

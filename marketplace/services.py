"""Catalog services: listing agents, publishing versions, and reviews."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from accounts.models import DeveloperProfile, User
from agentnexus.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from marketplace.catalog_cache import catalog_changed
from marketplace.models import (
    AGENT_TRANSITIONS,
    STAFF_ONLY_STATUSES,
    Agent,
    AgentEvent,
    AgentVersion,
    Category,
    Review,
)


def _raise_validation(exc: ValidationError, message: str) -> None:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    raise ApplicationError(message, code="validation_error", fields=fields) from exc


def _check_schema(schema: Any, field: str) -> None:
    if not isinstance(schema, dict):
        raise ApplicationError(
            f"{field} must be a JSON object.",
            code="validation_error",
            fields={field: ["Must be a JSON object."]},
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        problem = f"Not a valid JSON Schema at {path}: {exc.message}"
        raise ApplicationError(problem, code="validation_error", fields={field: [problem]}) from exc


@transaction.atomic
def agent_create(
    *,
    developer: DeveloperProfile,
    slug: str,
    name: str,
    summary: str,
    description: str,
    category: Category,
    tags: list[str] | None = None,
    featured: bool = False,
) -> Agent:
    agent = Agent(
        developer=developer,
        slug=slug,
        name=name,
        summary=summary,
        description=description,
        category=category,
        tags=sorted({tag.strip().lower() for tag in tags or [] if tag.strip()}),
        featured=featured,
    )
    try:
        agent.full_clean(exclude=["current_version"])
    except ValidationError as exc:
        _raise_validation(exc, "The agent is not valid.")
    agent.save()
    return agent


@transaction.atomic
def agent_version_create(
    *,
    agent: Agent,
    version: str,
    image_ref: str,
    input_schema: dict,
    output_schema: dict,
    example_input: dict | None = None,
    memory_mb: int = 512,
    cpus: Decimal = Decimal("1"),
    timeout_seconds: int = 300,
    price: Decimal,
    currency: str = "USDC",
    changelog: str = "",
    manifest: dict | None = None,
    make_current: bool = True,
) -> AgentVersion:
    """Add an immutable version; by default the agent's page switches to it. `manifest`: the
    approved agent.yaml (permissions, safety profile) when it came through the pipeline."""
    _check_schema(input_schema, "input_schema")
    _check_schema(output_schema, "output_schema")
    if example_input is not None:
        errors = sorted(Draft202012Validator(input_schema).iter_errors(example_input), key=str)
        if errors:
            problem = f"The example input does not match the input schema: {errors[0].message}"
            raise ApplicationError(
                problem, code="validation_error", fields={"example_input": [problem]}
            )
    agent_version = AgentVersion(
        agent=agent,
        version=version,
        image_ref=image_ref,
        input_schema=input_schema,
        output_schema=output_schema,
        example_input=example_input or {},
        memory_mb=memory_mb,
        cpus=cpus,
        timeout_seconds=timeout_seconds,
        price=price,
        currency=currency,
        changelog=changelog,
        manifest=manifest or {},
    )
    try:
        agent_version.full_clean()
    except ValidationError as exc:
        _raise_validation(exc, "The agent version is not valid.")
    agent_version.save()
    if make_current:
        agent_set_current_version(agent=agent, version=agent_version)
    return agent_version


def agent_set_current_version(*, agent: Agent, version: AgentVersion) -> Agent:
    """Point the agent's page and new runs at `version`; runs in progress keep theirs."""
    if version.agent_id != agent.pk:
        raise ApplicationError(
            "That version belongs to another agent.",
            code="validation_error",
            fields={"current_version": ["Choose one of this agent's versions."]},
        )
    Agent.objects.filter(pk=agent.pk).update(current_version=version, list_price=version.price)
    catalog_changed()  # update() sends no post_save
    agent.current_version, agent.list_price = version, version.price
    return agent


def _may_manage(agent: Agent, user: User | None) -> bool:
    """The agent's developer or staff; `None` is the platform itself (a command or task)."""
    if user is None or user.is_staff:
        return True
    return agent.developer.user_id == user.pk


@transaction.atomic
def agent_transition(*, agent: Agent, to: str, actor: User | None, reason: str = "") -> Agent:
    """Move an agent to `to` (AGENT_TRANSITIONS) under its row lock, with an AgentEvent row.

    The developer may switch between active, under maintenance and deprecated; only staff (or
    the platform, `actor` None) may suspend an agent or lift a suspension. Suspending stops the
    agent's queued and running runs (each is refunded by settlement). Deprecating and suspending
    deactivate the agent on chain so the escrow refuses new purchases; reactivating restores it.
    """
    if to not in Agent.Status.values:
        raise ApplicationError(
            "Unknown status.", code="validation_error", fields={"status": ["Unknown status."]}
        )
    locked = Agent.objects.select_for_update().select_related("developer").get(pk=agent.pk)
    if not _may_manage(locked, actor):
        raise PermissionDeniedError("Only the agent's developer or staff can change its status.")
    staff = actor is None or actor.is_staff
    if not staff and (to in STAFF_ONLY_STATUSES or locked.status in STAFF_ONLY_STATUSES):
        raise PermissionDeniedError(
            "This agent is suspended by AgentNexus; only staff can lift a suspension."
            if locked.status in STAFF_ONLY_STATUSES
            else "Only AgentNexus staff can suspend an agent."
        )
    reason = (reason or "").strip()
    if to == Agent.Status.SUSPENDED and not reason:
        problem = "Say why the agent is suspended; its developer and buyers see it."
        raise ApplicationError(problem, code="validation_error", fields={"reason": [problem]})
    if locked.status == to:
        if to == Agent.Status.SUSPENDED:
            raise ConflictError(f"{locked.name} is already suspended.", code="already_suspended")
        return locked
    if to not in AGENT_TRANSITIONS[locked.status]:
        raise ConflictError(
            f"{locked.name} cannot go from {locked.get_status_display().lower()} to "
            f"{Agent.Status(to).label.lower()}.",
            code="invalid_transition",
        )
    previous = locked.status
    locked.status = to
    locked.status_reason = reason if to in (Agent.Status.DEPRECATED, Agent.Status.SUSPENDED) else ""
    fields = ["status", "status_reason", "updated_at"]
    if to in (Agent.Status.DEPRECATED, Agent.Status.SUSPENDED):
        locked.featured = False
        fields.append("featured")
    locked.save(update_fields=fields)
    AgentEvent.objects.create(
        agent=locked,
        kind=AgentEvent.Kind.STATUS,
        from_status=previous,
        to_status=to,
        actor=actor,
        reason=reason,
    )
    if actor is not None and actor.is_staff:
        from compliance.audit.services import audit_record

        audit_record(
            actor=actor,
            action="marketplace.agent.status",
            obj=locked,
            data={"slug": locked.slug, "from": previous, "to": to, "reason": reason},
        )
    agent_id = locked.pk
    if to == Agent.Status.SUSPENDED:
        # After commit and outside this row lock: a worker ending a run locks the run, then the
        # agent (its counters); stopping runs under the agent lock could deadlock with it.
        from runtime.tasks import stop_suspended_agent_runs

        transaction.on_commit(lambda: stop_suspended_agent_runs.delay(agent_id))
    transaction.on_commit(lambda: _enqueue_chain_status(agent_id))
    agent.status, agent.status_reason, agent.featured = (
        locked.status,
        locked.status_reason,
        locked.featured,
    )
    return locked


def agent_set_featured(*, agent: Agent, featured: bool) -> Agent:
    """Feature the agent at the top of the catalog (staff, or the platform's own agents)."""
    agent.featured = featured
    agent.save(update_fields=["featured", "updated_at"])
    return agent


def _enqueue_chain_status(agent_id: int) -> None:
    from payments.tasks import sync_agent_on_chain

    sync_agent_on_chain.delay(agent_id)


def agent_deprecate(*, agent: Agent, by: User, reason: str = "") -> Agent:
    """The developer retires the agent: it leaves the catalog and cannot be bought; buyers can
    still use the runs they paid for."""
    return agent_transition(agent=agent, to=Agent.Status.DEPRECATED, actor=by, reason=reason)


def agent_suspend(*, agent: Agent, by: User, reason: str) -> Agent:
    """Staff take the agent down at once: out of the catalog and purchase, every run refused."""
    if not by.is_staff:
        raise PermissionDeniedError("Only AgentNexus staff can suspend an agent.")
    return agent_transition(agent=agent, to=Agent.Status.SUSPENDED, actor=by, reason=reason)


def agent_reactivate(*, agent: Agent, by: User) -> Agent:
    """The agent is active again: its developer undoes a deprecation, or staff lift a
    suspension (only staff can)."""
    return agent_transition(agent=agent, to=Agent.Status.ACTIVE, actor=by)


@transaction.atomic
def agent_version_deprecate(*, version: AgentVersion, by: User, reason: str = "") -> AgentVersion:
    """Retire one version: new runs cannot pick it; runs in progress finish on it. The current
    version cannot be deprecated (publish a newer one first, or deprecate the agent)."""
    agent = Agent.objects.select_for_update().select_related("developer").get(pk=version.agent_id)
    if not _may_manage(agent, by):
        raise PermissionDeniedError("Only the agent's developer or staff can deprecate a version.")
    locked = AgentVersion.objects.select_for_update().get(pk=version.pk)
    if locked.deprecated_at is not None:
        return locked
    if agent.current_version_id == locked.pk:
        raise ConflictError(
            f"{locked.version} is the current version of {agent.name}. Publish a newer version "
            "first, or deprecate the whole agent.",
            code="current_version",
        )
    locked.deprecated_at = timezone.now()
    locked.save(update_fields=["deprecated_at"])
    AgentEvent.objects.create(
        agent=agent,
        kind=AgentEvent.Kind.VERSION_DEPRECATED,
        version=locked,
        actor=by,
        reason=(reason or "").strip(),
    )
    version.deprecated_at = locked.deprecated_at
    return locked


def _agent_rating_refresh(*, agent_id: int) -> None:
    """Recompute the denormalised rating. Callers hold the agent row lock."""
    figures = Review.objects.filter(agent_id=agent_id).aggregate(
        avg=Avg("rating"), count=Count("id")
    )
    avg = Decimal(figures["avg"] or 0).quantize(Decimal("0.01"))
    Agent.objects.filter(pk=agent_id).update(rating_avg=avg, rating_count=figures["count"])
    catalog_changed()  # update() sends no post_save


def _lock_agent(agent: Agent) -> Agent:
    return Agent.objects.select_for_update().only("id", "developer_id").get(pk=agent.pk)


def _clean_review(rating: int, body: str) -> str:
    fields: dict[str, list[str]] = {}
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        fields["rating"] = ["Choose a rating from 1 to 5 stars."]
    body = (body or "").strip()
    if len(body) < 3:
        fields["body"] = ["Write a few words about your experience (at least 3 characters)."]
    elif len(body) > 2000:
        fields["body"] = ["Keep the review under 2,000 characters."]
    if fields:
        first = next(iter(fields.values()))[0]
        raise ApplicationError(first, code="validation_error", fields=fields)
    return body


@transaction.atomic
def review_create(*, agent: Agent, author: User, rating: int, body: str) -> Review:
    body = _clean_review(rating, body)
    locked = _lock_agent(agent)
    if locked.developer.user_id == author.pk:
        raise PermissionDeniedError("You cannot review your own agent.")
    if Review.objects.filter(agent=locked, author=author).exists():
        raise ConflictError(
            "You have already reviewed this agent; edit your review instead.",
            fields={"non_field_errors": ["You have already reviewed this agent."]},
        )
    review = Review.objects.create(agent=locked, author=author, rating=rating, body=body)
    _agent_rating_refresh(agent_id=locked.pk)
    return review


@transaction.atomic
def review_update(*, review: Review, author: User, rating: int, body: str) -> Review:
    if review.author_id != author.pk:
        raise PermissionDeniedError("You can only edit your own review.")
    body = _clean_review(rating, body)
    _lock_agent(review.agent)
    review.rating = rating
    review.body = body
    review.save(update_fields=["rating", "body", "updated_at"])
    _agent_rating_refresh(agent_id=review.agent_id)
    return review


@transaction.atomic
def review_delete(*, review: Review, author: User | None) -> None:
    """Delete a review: its author may; staff moderation uses this with `author=None`."""
    if author is not None and review.author_id != author.pk:
        raise PermissionDeniedError("You can only delete your own review.")
    _lock_agent(review.agent)
    agent_id = review.agent_id
    review.delete()
    _agent_rating_refresh(agent_id=agent_id)

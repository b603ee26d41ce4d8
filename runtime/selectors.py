"""Query shaping for runs: what a user may see."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accounts.models import User
from runtime.models import Run


def run_visible_to(*, user: User, public_id: uuid.UUID | str) -> Run | None:
    """The run if `user` owns it or is staff; None otherwise (callers answer 404 either way)."""
    if not user.is_authenticated:
        return None
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    runs = Run.objects.select_related("agent", "version")
    if not user.is_staff:
        runs = runs.filter(user=user)
    return runs.filter(public_id=public_id).first()


def run_list_for_user(
    *, user: User, agent_slug: str | None = None, status: str | None = None
) -> QuerySet[Run]:
    runs = Run.objects.filter(user=user).select_related("agent", "version", "settlement")
    if agent_slug:
        runs = runs.filter(agent__slug=agent_slug)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-id")

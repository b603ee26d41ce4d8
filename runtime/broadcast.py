"""Push run events to the run's WebSocket group (runtime/consumers.py)."""

from __future__ import annotations

import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def run_group(public_id: uuid.UUID | str) -> str:
    return f"run.{uuid.UUID(str(public_id)).hex}"


def run_events_broadcast(*, public_id: uuid.UUID | str, messages: list[dict]) -> None:
    """Best effort: the database is the record; a client that missed a push catches up by seq."""
    if not messages:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            run_group(public_id), {"type": "run.events", "events": messages}
        )
    except Exception:  # noqa: BLE001 - a Redis hiccup must not fail the run
        logger.warning("could not broadcast events of run %s", public_id, exc_info=True)

"""The Celery app reads the Django settings and moves a task through the real Redis broker."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache

from agentnexus.celery import app
from agentnexus.core.tasks import heartbeat


def test_celery_is_configured_from_django_settings():
    assert app.conf.broker_url == settings.REDIS_URL
    assert app.conf.task_acks_late is True
    assert "core.heartbeat" in app.tasks


@pytest.mark.django_db
def test_a_task_round_trips_through_redis_to_a_worker():
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            token = uuid.uuid4().hex
            heartbeat.delay(token)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and cache.get(f"heartbeat:{token}") is None:
                time.sleep(0.05)
            assert cache.get(f"heartbeat:{token}") == "ok"
    finally:
        app.conf.task_always_eager = True

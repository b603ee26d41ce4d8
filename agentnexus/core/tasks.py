from celery import shared_task
from django.core.cache import cache


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat(token: str) -> None:
    """Marks `token` as seen by a worker: used to check the broker-to-worker path end to end."""
    cache.set(f"heartbeat:{token}", "ok", timeout=60)

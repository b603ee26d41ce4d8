from celery import shared_task

from compliance.geo import access_log_purge


@shared_task(name="compliance.access_log_purge", ignore_result=True)
def access_log_purge_task() -> int:
    """Delete access-decision log rows older than COMPLIANCE_ACCESS_LOG_DAYS (beat: daily)."""
    return access_log_purge()

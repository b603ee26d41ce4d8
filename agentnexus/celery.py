"""Celery application wired to the Django settings (CELERY_* keys)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentnexus.settings.local")

app = Celery("agentnexus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

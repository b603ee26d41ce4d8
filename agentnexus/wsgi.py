"""WSGI entry point, for management tooling; the served app is ASGI (asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentnexus.settings.local")

application = get_wsgi_application()

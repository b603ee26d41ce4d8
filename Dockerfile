# AgentNexus production image: `docker build -t agentnexus .`
# Runs the ASGI app (HTTP + WebSockets); the same image serves the Celery worker and beat
# (see docker-compose.yml). Configuration comes from the environment; see .env.example.
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: wheels for every pinned requirement, installed into a self-contained venv ----------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels -r requirements.txt

# --- runtime --------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=agentnexus.settings.production

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY . .

# Static files are collected at build time (served by WhiteNoise). The secret and database here
# exist only for this step and never reach the running container.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.db \
    python manage.py collectstatic --noinput -v 0 \
 && rm -f /tmp/build.db \
 && mkdir -p /app/media \
 && chown app:app /app/media

USER app:app
EXPOSE 8000

# Asks /healthz with a Host header Django accepts (the first of DJANGO_ALLOWED_HOSTS).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; h = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; r = urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["uvicorn", "agentnexus.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers"]

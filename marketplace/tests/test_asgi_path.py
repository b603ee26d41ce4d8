"""The request path under ASGI stays cheap: the middleware chain runs in sync mode (WhiteNoise,
which is sync-only, comes last), and static files are still served as before."""

import asyncio

import pytest
from asgiref import sync
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

pytestmark = pytest.mark.django_db


def test_whitenoise_is_the_innermost_middleware():
    assert settings.MIDDLEWARE[-1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert settings.MIDDLEWARE[0] == "django.middleware.security.SecurityMiddleware"


def test_an_asgi_request_crosses_threads_a_handful_of_times(monkeypatch):
    hand_offs = []
    original = sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        hand_offs.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    app = ASGIHandler()
    sent = []
    body = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if body:
            return body.pop()
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    # The chain, CSRF's process_view, the view and the request signals: 5 with Django 5.2.
    # With WhiteNoise second, as its docs suggest, every middleware hook crossed: 15.
    assert len(hand_offs) <= 6, hand_offs


def test_static_files_are_served_without_session_or_cookies(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
    b"".join(response.streaming_content)  # close the file

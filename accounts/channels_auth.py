"""WebSocket authentication with a personal API token (`Authorization: Token anx_...`), for API
clients that stream run events. Browsers keep using the session (AuthMiddlewareStack)."""

from __future__ import annotations

from channels.db import database_sync_to_async

from accounts.services import api_token_authenticate


class ApiTokenWebsocketMiddleware:
    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, raw = header.partition(" ")
            if scheme.lower() == "token" and raw:
                found = await database_sync_to_async(api_token_authenticate)(raw=raw.strip())
                if found is not None:
                    scope = {**scope, "user": found}
        return await self.inner(scope, receive, send)

"""WebSocket routes. Run streaming arrives with the runtime (issue 4)."""

websocket_urlpatterns: list = []

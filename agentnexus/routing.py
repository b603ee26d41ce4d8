"""WebSocket routes."""

from runtime.routing import websocket_urlpatterns as runtime_routes

websocket_urlpatterns: list = [*runtime_routes]

"""WebSocket routes."""

from agents.routing import websocket_urlpatterns as agents_routes
from runtime.routing import websocket_urlpatterns as runtime_routes

websocket_urlpatterns: list = [*runtime_routes, *agents_routes]

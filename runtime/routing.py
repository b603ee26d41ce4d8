from django.urls import path

from runtime.consumers import RunConsumer

websocket_urlpatterns = [
    path("ws/runs/<str:public_id>/", RunConsumer.as_asgi()),
]

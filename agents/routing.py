from django.urls import path

from agents.consumers import SubmissionConsumer

websocket_urlpatterns = [
    path("ws/submissions/<str:public_id>/", SubmissionConsumer.as_asgi()),
]

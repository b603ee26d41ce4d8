"""Run API: start (Idempotency-Key honoured), get, list mine, cancel, events after a seq."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace.models import Agent
from runtime.api.serializers import (
    RunCreateInputSerializer,
    RunEventOutputSerializer,
    RunEventsQueryInputSerializer,
    RunListQueryInputSerializer,
    RunOutputSerializer,
)
from runtime.selectors import run_list_for_user, run_visible_to
from runtime.services import run_cancel, run_events_after, run_start

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeat a request with the same key to get the same run instead of a new one.",
)


def _visible_run(request: Request, run_id) -> "object":
    run = run_visible_to(user=request.user, public_id=run_id)
    if run is None:
        raise Http404
    return run


class RunListCreateApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RunOutputSerializer

    @extend_schema(
        summary="My runs, newest first",
        parameters=[RunListQueryInputSerializer],
        responses=RunOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = RunListQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = run_list_for_user(
            user=request.user,
            agent_slug=query.validated_data.get("agent"),
            status=query.validated_data.get("status"),
        )
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(
            RunOutputSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="Start a run",
        request=RunCreateInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: RunOutputSerializer, 200: RunOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = RunCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        agent = get_object_or_404(Agent, slug=data["agent"])
        version = None
        if data.get("version"):
            version = agent.versions.filter(version=data["version"]).first()
            if version is None:
                raise Http404
        key = request.headers.get("Idempotency-Key", "").strip()[:255] or None
        run, created = run_start(
            user=request.user,
            agent=agent,
            version=version,
            data=data["input"],
            secrets=data.get("secrets"),
            idempotency_key=key,
            request=request,
        )
        run.refresh_from_db()
        return Response(
            RunOutputSerializer(run, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RunDetailApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RunOutputSerializer

    @extend_schema(summary="A run (yours, or any for staff)", responses=RunOutputSerializer)
    def get(self, request: Request, run_id) -> Response:
        run = _visible_run(request, run_id)
        return Response(RunOutputSerializer(run, context={"request": request}).data)


class RunCancelApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RunOutputSerializer

    @extend_schema(summary="Cancel a run", request=None, responses=RunOutputSerializer)
    def post(self, request: Request, run_id) -> Response:
        run = run_cancel(run=_visible_run(request, run_id), by=request.user)
        return Response(RunOutputSerializer(run, context={"request": request}).data)


class RunEventsApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RunEventOutputSerializer
    pagination_class = None

    @extend_schema(
        summary="A run's events after a sequence number",
        parameters=[RunEventsQueryInputSerializer],
        responses=RunEventOutputSerializer(many=True),
    )
    def get(self, request: Request, run_id) -> Response:
        run = _visible_run(request, run_id)
        query = RunEventsQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = run_events_after(
            run=run, after=query.validated_data["after"], limit=query.validated_data["limit"]
        )
        return Response(RunEventOutputSerializer(events, many=True).data)

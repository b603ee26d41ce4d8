"""Developer API: the developer's profile summary, agents with per-version figures, submissions
(upload, status, logs), earnings, and deprecating an agent or a version. The API equivalent of the
/developer/ pages (agents/views.py); logic lives in agents/selectors.py and the services.

    GET  /api/v1/developer/                                          profile summary
    GET  /api/v1/developer/agents/                                   my agents, with versions
    GET  /api/v1/developer/agents/<slug>/                            one of them
    POST /api/v1/developer/agents/<slug>/deprecate/                  deprecate the agent
    POST /api/v1/developer/agents/<slug>/versions/<version>/deprecate/
    GET  /api/v1/developer/submissions/                              my submissions, newest first
    POST /api/v1/developer/submissions/                              upload an archive (multipart)
    GET  /api/v1/developer/submissions/<id>/                         status, findings, smoke tests
    GET  /api/v1/developer/submissions/<id>/logs/?after=N            pipeline log lines after N
    GET  /api/v1/developer/earnings/?days=N                          released earnings

Every endpoint needs a developer profile: other users get 403 `not_a_developer`. Another
developer's agents and submissions are 404s.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import DeveloperProfile
from agentnexus.core.errors import ApplicationError
from agents.api.serializers import (
    DeveloperAgentOutputSerializer,
    DeveloperDeprecateInputSerializer,
    DeveloperEarningsOutputSerializer,
    DeveloperEarningsQueryInputSerializer,
    DeveloperProfileOutputSerializer,
    PayoutInputSerializer,
    SubmissionCreateInputSerializer,
    SubmissionDetailOutputSerializer,
    SubmissionLogsOutputSerializer,
    SubmissionLogsQueryInputSerializer,
    SubmissionOutputSerializer,
)
from agents.models import Submission
from agents.selectors import (
    developer_agent_get,
    developer_agents,
    developer_submission_get,
    developer_submission_list,
    developer_summary,
)
from agents.services import submission_create, submission_log_after
from marketplace.models import Agent
from marketplace.services import agent_deprecate, agent_reactivate, agent_version_deprecate
from payments.selectors import developer_earnings


class IsDeveloper(permissions.IsAuthenticated):
    """Signed in with a developer profile. Anonymous requests stay 401s."""

    message = (
        "This needs a developer profile. Create one on your profile page (/profile/) to submit "
        "and manage agents."
    )
    code = "not_a_developer"

    def has_permission(self, request: Request, view) -> bool:
        return super().has_permission(request, view) and hasattr(request.user, "developer_profile")


def _developer(request: Request) -> DeveloperProfile:
    return request.user.developer_profile


def _agent_row(request: Request, slug: str) -> dict:
    rows = developer_agents(developer=_developer(request), slug=slug)
    if not rows:
        raise Http404
    return rows[0]


def _own_agent(request: Request, slug: str) -> Agent:
    agent = developer_agent_get(developer=_developer(request), slug=slug)
    if agent is None:
        raise Http404
    return agent


def _own_submission(request: Request, submission_id) -> Submission:
    submission = developer_submission_get(developer=_developer(request), public_id=submission_id)
    if submission is None:
        raise Http404
    return submission


# Base of the developer endpoints (a comment, not a docstring: drf-spectacular would show it as
# every operation's description).
class DeveloperApi(GenericAPIView):
    permission_classes = [IsDeveloper]


class DeveloperProfileApi(DeveloperApi):
    serializer_class = DeveloperProfileOutputSerializer

    @extend_schema(
        summary="My developer profile: payout address and counts",
        responses=DeveloperProfileOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        summary = developer_summary(developer=_developer(request))
        return Response(DeveloperProfileOutputSerializer(summary).data)


class DeveloperPayoutApi(DeveloperApi):
    serializer_class = PayoutInputSerializer

    @extend_schema(
        summary="Receive payouts on one of my linked wallets",
        request=PayoutInputSerializer,
        responses=DeveloperProfileOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        from payments.wallets import developer_payout_set, wallet_get

        data = PayoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wallet = wallet_get(user=request.user, wallet_id=data.validated_data["wallet"])
        developer = developer_payout_set(user=request.user, wallet=wallet)
        return Response(
            DeveloperProfileOutputSerializer(developer_summary(developer=developer)).data
        )


class DeveloperAgentListApi(DeveloperApi):
    serializer_class = DeveloperAgentOutputSerializer
    pagination_class = None

    @extend_schema(
        summary="My agents with their versions and per-version run figures",
        responses=DeveloperAgentOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = developer_agents(developer=_developer(request))
        return Response(DeveloperAgentOutputSerializer(rows, many=True).data)


class DeveloperAgentDetailApi(DeveloperApi):
    serializer_class = DeveloperAgentOutputSerializer

    @extend_schema(summary="One of my agents", responses=DeveloperAgentOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(DeveloperAgentOutputSerializer(_agent_row(request, slug)).data)


class DeveloperAgentDeprecateApi(DeveloperApi):
    serializer_class = DeveloperAgentOutputSerializer

    @extend_schema(
        summary="Deprecate one of my agents: it leaves the catalog, runs in progress finish",
        request=DeveloperDeprecateInputSerializer,
        responses=DeveloperAgentOutputSerializer,
    )
    def post(self, request: Request, slug: str) -> Response:
        agent = _own_agent(request, slug)
        body = DeveloperDeprecateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agent_deprecate(agent=agent, by=request.user, reason=body.validated_data["reason"])
        return Response(DeveloperAgentOutputSerializer(_agent_row(request, slug)).data)


class DeveloperAgentReactivateApi(DeveloperApi):
    serializer_class = DeveloperAgentOutputSerializer

    @extend_schema(
        summary="Reactivate one of my deprecated agents: back in the catalog and on sale",
        request=None,
        responses=DeveloperAgentOutputSerializer,
    )
    def post(self, request: Request, slug: str) -> Response:
        agent_reactivate(agent=_own_agent(request, slug), by=request.user)
        return Response(DeveloperAgentOutputSerializer(_agent_row(request, slug)).data)


class DeveloperAgentVersionDeprecateApi(DeveloperApi):
    serializer_class = DeveloperAgentOutputSerializer

    @extend_schema(
        summary="Deprecate a version of one of my agents: new runs cannot use it",
        request=DeveloperDeprecateInputSerializer,
        responses=DeveloperAgentOutputSerializer,
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        found = _own_agent(request, slug).versions.filter(version=version).first()
        if found is None:
            raise Http404
        body = DeveloperDeprecateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agent_version_deprecate(
            version=found, by=request.user, reason=body.validated_data["reason"]
        )
        return Response(DeveloperAgentOutputSerializer(_agent_row(request, slug)).data)


class SubmissionListCreateApi(DeveloperApi):
    serializer_class = SubmissionOutputSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="My submissions, newest first", responses=SubmissionOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(developer_submission_list(developer=_developer(request)))
        return self.get_paginated_response(
            SubmissionOutputSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="Submit an agent, or a new version of one of mine (multipart upload)",
        request={"multipart/form-data": SubmissionCreateInputSerializer},
        responses={201: SubmissionDetailOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = SubmissionCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        developer = _developer(request)
        agent = None
        if slug := body.validated_data.get("agent"):
            agent = Agent.objects.filter(developer=developer, slug=slug).first()
            if agent is None:
                problem = f"You have no agent {slug!r}; omit `agent` to submit a new one."
                raise ApplicationError(
                    problem, code="validation_error", fields={"agent": [problem]}
                )
        submission = submission_create(
            developer=developer, archive_fileobj=body.validated_data["archive"], agent=agent
        )
        return Response(
            SubmissionDetailOutputSerializer(
                _own_submission(request, submission.public_id), context={"request": request}
            ).data,
            status=status.HTTP_201_CREATED,
        )


class SubmissionDetailApi(DeveloperApi):
    serializer_class = SubmissionDetailOutputSerializer

    @extend_schema(
        summary="A submission: status, manifest, scan findings, smoke tests, status history",
        responses=SubmissionDetailOutputSerializer,
    )
    def get(self, request: Request, submission_id) -> Response:
        submission = _own_submission(request, submission_id)
        return Response(
            SubmissionDetailOutputSerializer(submission, context={"request": request}).data
        )


class SubmissionLogsApi(DeveloperApi):
    serializer_class = SubmissionLogsOutputSerializer
    pagination_class = None

    @extend_schema(
        summary="A submission's pipeline log lines after a sequence number",
        parameters=[SubmissionLogsQueryInputSerializer],
        responses=SubmissionLogsOutputSerializer,
    )
    def get(self, request: Request, submission_id) -> Response:
        submission = _own_submission(request, submission_id)
        query = SubmissionLogsQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data["after"]
        lines = submission_log_after(
            submission=submission, after=after, limit=query.validated_data["limit"]
        )
        data = {
            "status": submission.status,
            "lines": lines,
            "next_after": lines[-1].seq if lines else after,
        }
        return Response(SubmissionLogsOutputSerializer(data).data)


class DeveloperEarningsApi(DeveloperApi):
    serializer_class = DeveloperEarningsOutputSerializer
    pagination_class = None

    @extend_schema(
        summary="My earnings from released runs, per agent and per day",
        parameters=[DeveloperEarningsQueryInputSerializer],
        responses=DeveloperEarningsOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        query = DeveloperEarningsQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        earnings = developer_earnings(
            developer=_developer(request), days=query.validated_data["days"]
        )
        return Response(DeveloperEarningsOutputSerializer(earnings).data)

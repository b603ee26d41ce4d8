"""Catalog API (read-only catalogue plus review creation). Logic lives in selectors/services."""

from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace import selectors
from marketplace.api.serializers import (
    AgentDetailOutputSerializer,
    AgentListOutputSerializer,
    CatalogQueryInputSerializer,
    CategoryOutputSerializer,
    CurrentUserOutputSerializer,
    ReviewCreateInputSerializer,
    ReviewOutputSerializer,
)
from marketplace.catalog_cache import catalog_cached
from marketplace.models import Agent
from marketplace.services import review_create


@extend_schema_view(
    list=extend_schema(
        summary="Search the catalog",
        parameters=[CatalogQueryInputSerializer],
        responses=AgentListOutputSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="An agent with its current version", responses=AgentDetailOutputSerializer
    ),
)
class AgentViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    queryset = Agent.objects.none()
    serializer_class = AgentListOutputSerializer

    def get_queryset(self):
        params = CatalogQueryInputSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.agent_search(query=params.to_query())

    def list(self, request: Request) -> HttpResponse:
        # The listing is public and identical for every caller: share it through the catalog
        # cache (errors raise before anything is stored). The key holds everything the body
        # depends on: media type (JSON indent), scheme, host and path (links, API version) and
        # the normalised parameters.
        params = sorted(request.query_params.lists())
        key = (
            f"api-agents:{request.accepted_media_type}:{request.scheme}://{request.get_host()}"
            f"{request.path}:{params!r}"
        )
        renderer = request.accepted_renderer
        if not isinstance(renderer, JSONRenderer):
            # The browsable API (DEBUG only) shows the user and a CSRF token: share the data only.
            return Response(
                catalog_cached(key, lambda: super(AgentViewSet, self).list(request).data)
            )

        def render() -> bytes:
            data = super(AgentViewSet, self).list(request).data
            context = self.get_renderer_context()
            return renderer.render(data, request.accepted_media_type, context)

        # Cached as rendered JSON: a hit skips serialisation, unpickling objects and rendering.
        # The content type is what DRF's Response would set for this renderer.
        content_type = renderer.media_type
        if renderer.charset:
            content_type = f"{content_type}; charset={renderer.charset}"
        return HttpResponse(catalog_cached(key, render), content_type=content_type)

    def retrieve(self, request: Request, slug: str | None = None) -> Response:
        agent = selectors.agent_get(slug=slug or "")
        if agent is None:
            raise Http404
        return Response(AgentDetailOutputSerializer(agent, context={"request": request}).data)


class CategoryListApi(GenericAPIView):
    serializer_class = CategoryOutputSerializer
    pagination_class = None

    @extend_schema(
        summary="Categories with their number of listed agents",
        operation_id="categories_list",
        responses=CategoryOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        categories = selectors.category_list_with_counts()
        return Response(CategoryOutputSerializer(categories, many=True).data)


class AgentReviewsApi(mixins.ListModelMixin, GenericAPIView):
    serializer_class = ReviewOutputSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def _agent(self) -> Agent:
        agent = selectors.agent_get(slug=self.kwargs["slug"])
        if agent is None:
            raise Http404
        return agent

    def get_queryset(self):
        return selectors.agent_reviews(agent=self._agent())

    @extend_schema(summary="Reviews of an agent, newest first")
    def get(self, request: Request, slug: str) -> Response:
        return self.list(request)

    @extend_schema(
        summary="Review an agent (one review per user)",
        request=ReviewCreateInputSerializer,
        responses={201: ReviewOutputSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        agent = self._agent()
        data = ReviewCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_create(agent=agent, author=request.user, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


class CurrentUserApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="The signed-in user", responses=CurrentUserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(CurrentUserOutputSerializer(request.user).data)


__all__ = ["AgentViewSet", "AgentReviewsApi", "CategoryListApi", "CurrentUserApi"]

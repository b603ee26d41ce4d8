"""Purchase API: quote, initiate (returns the calls to sign), confirm with a transaction hash,
list and detail; entitlements (runs left per agent)."""

from __future__ import annotations

from django.db.models import F, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace.models import Agent, Currency
from payments.models import Purchase, PurchaseStatus
from payments.purchases import MAX_RUNS, purchase_confirm, purchase_initiate, purchase_quote


class PurchaseQuoteInputSerializer(serializers.Serializer):
    agent = serializers.SlugField()
    runs = serializers.IntegerField(min_value=1, max_value=MAX_RUNS)
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.USDC)


class PurchaseCreateInputSerializer(PurchaseQuoteInputSerializer):
    wallet = serializers.CharField(max_length=42, help_text="A wallet you linked, paying.")


class PurchaseConfirmInputSerializer(serializers.Serializer):
    tx_hash = serializers.CharField(max_length=66)


class QuoteOutputSerializer(serializers.Serializer):
    agent = serializers.CharField(source="agent.slug")
    chain_id = serializers.IntegerField()
    chain_agent_id = serializers.IntegerField()
    currency = serializers.CharField()
    token = serializers.CharField()
    runs = serializers.IntegerField()
    unit_price = serializers.CharField(help_text="Base units (e.g. 6 decimals for USDC).")
    total = serializers.CharField(help_text="Base units.")
    decimals = serializers.IntegerField()
    escrow = serializers.CharField()


class CallSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=["approve", "purchase"])
    to = serializers.CharField()
    data = serializers.CharField()
    value = serializers.CharField(help_text="Hex wei.")


class PurchaseOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    agent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    unit_price = serializers.CharField()
    total = serializers.CharField()
    runs_left = serializers.IntegerField()

    class Meta:
        model = Purchase
        fields = [
            "id",
            "agent",
            "status",
            "failure_reason",
            "buyer_address",
            "currency",
            "token_address",
            "runs",
            "runs_left",
            "runs_released",
            "runs_refunded",
            "runs_reclaimed",
            "unit_price",
            "total",
            "payment_id",
            "tx_hash",
            "block_number",
            "confirmations",
            "expires_at",
            "created_at",
        ]
        read_only_fields = fields


class PurchaseCreatedOutputSerializer(serializers.Serializer):
    purchase = PurchaseOutputSerializer()
    calls = CallSerializer(many=True, help_text="Send these from the wallet, in order.")


class EntitlementOutputSerializer(serializers.Serializer):
    agent = serializers.CharField()
    runs_bought = serializers.IntegerField()
    runs_left = serializers.IntegerField()


def _agent(slug: str) -> Agent:
    return get_object_or_404(Agent.objects.select_related("current_version"), slug=slug)


class PurchaseQuoteApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = QuoteOutputSerializer

    @extend_schema(summary="Price of runs of an agent", request=PurchaseQuoteInputSerializer)
    def post(self, request: Request) -> Response:
        body = PurchaseQuoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        quote = purchase_quote(
            user=request.user, agent=_agent(data["agent"]), runs=data["runs"],
            currency=data["currency"], request=request,
        )  # fmt: skip
        return Response(QuoteOutputSerializer(quote).data)


class PurchaseListCreateApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PurchaseOutputSerializer

    @extend_schema(summary="My purchases", responses=PurchaseOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        purchases = Purchase.objects.filter(user=request.user).select_related("agent")
        page = self.paginate_queryset(purchases)
        return self.get_paginated_response(PurchaseOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Start a purchase: returns the calls your wallet must send",
        request=PurchaseCreateInputSerializer,
        responses={201: PurchaseCreatedOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = PurchaseCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        purchase, calls = purchase_initiate(
            user=request.user, agent=_agent(data["agent"]), runs=data["runs"],
            currency=data["currency"], wallet_address=data["wallet"], request=request,
        )  # fmt: skip
        return Response(
            PurchaseCreatedOutputSerializer({"purchase": purchase, "calls": calls}).data,
            status=status.HTTP_201_CREATED,
        )


def _own_purchase(request: Request, purchase_id) -> Purchase:
    purchase = Purchase.objects.select_related("agent").filter(public_id=purchase_id).first()
    if purchase is None or (purchase.user_id != request.user.pk and not request.user.is_staff):
        raise Http404
    return purchase


class PurchaseDetailApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PurchaseOutputSerializer

    @extend_schema(summary="A purchase")
    def get(self, request: Request, purchase_id) -> Response:
        return Response(PurchaseOutputSerializer(_own_purchase(request, purchase_id)).data)


class PurchaseConfirmApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PurchaseOutputSerializer

    @extend_schema(
        summary="Report the purchase transaction your wallet sent",
        request=PurchaseConfirmInputSerializer,
    )
    def post(self, request: Request, purchase_id) -> Response:
        purchase = _own_purchase(request, purchase_id)
        body = PurchaseConfirmInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        purchase = purchase_confirm(purchase=purchase, tx_hash=body.validated_data["tx_hash"])
        purchase.refresh_from_db()
        return Response(PurchaseOutputSerializer(purchase).data)


class EntitlementListApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = EntitlementOutputSerializer
    pagination_class = None

    @extend_schema(
        summary="Runs I can start, per agent", responses=EntitlementOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        rows = (
            Purchase.objects.filter(user=request.user, status=PurchaseStatus.COMPLETED)
            .values("agent__slug")
            .annotate(bought=Sum("runs"), left=Sum(F("runs") - F("runs_reserved")))
            .order_by("agent__slug")
        )
        data = [
            {"agent": r["agent__slug"], "runs_bought": r["bought"], "runs_left": r["left"]}
            for r in rows
        ]
        return Response(EntitlementOutputSerializer(data, many=True).data)

"""Wallet API: link a wallet with Sign-In with Ethereum, list, unlink, choose the primary one.

    GET  /api/v1/wallets/                      my wallets, the primary first
    POST /api/v1/wallets/nonce/                {"address"} -> the EIP-4361 message to sign
    POST /api/v1/wallets/link/                 {"message", "signature"} -> the linked wallet
    POST /api/v1/wallets/<id>/primary/         pay with this wallet
    POST /api/v1/wallets/<id>/unlink/          unlink it (the next one becomes primary)

Logging in with a wallet is a browser-session matter (/wallet/login/); API clients use tokens.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import eth_address_validator
from payments.models import SiweNonce, Wallet
from payments.wallets import (
    siwe_nonce_issue,
    wallet_get,
    wallet_link,
    wallet_list,
    wallet_set_primary,
    wallet_unlink,
)


class WalletOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Wallet
        fields = ["id", "address", "is_primary", "is_contract", "label", "linked_at"]
        read_only_fields = fields


class WalletNonceInputSerializer(serializers.Serializer):
    address = serializers.CharField(
        max_length=42,
        validators=[eth_address_validator],
        help_text="The wallet's address (any letter case; the message uses its EIP-55 checksum).",
    )


class WalletSiweTemplateOutputSerializer(serializers.Serializer):
    domain = serializers.CharField()
    uri = serializers.CharField()
    version = serializers.CharField()
    chain_id = serializers.IntegerField()
    nonce = serializers.CharField()
    issued_at = serializers.CharField()
    expiration_time = serializers.CharField()
    statement = serializers.CharField()


class WalletNonceOutputSerializer(serializers.Serializer):
    nonce = serializers.CharField(help_text="Single use; expires in 10 minutes.")
    expires_at = serializers.DateTimeField()
    message = serializers.CharField(
        help_text="The EIP-4361 message to sign with personal_sign (EIP-191), unchanged."
    )
    template = WalletSiweTemplateOutputSerializer()


class WalletLinkInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000, trim_whitespace=False)
    signature = serializers.CharField(
        max_length=8194, help_text="0x-prefixed hex: 65 bytes for a key, any for ERC-1271."
    )


class WalletUnlinkOutputSerializer(serializers.Serializer):
    primary = WalletOutputSerializer(
        allow_null=True, help_text="The wallet that became primary, if the unlinked one was."
    )


class WalletListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="My linked wallets", responses=WalletOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(WalletOutputSerializer(wallet_list(user=request.user), many=True).data)


class WalletNonceApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Start linking a wallet: get the Sign-In with Ethereum message to sign",
        request=WalletNonceInputSerializer,
        responses={201: WalletNonceOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = WalletNonceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        nonce, template = siwe_nonce_issue(
            purpose=SiweNonce.Purpose.LINK,
            domain=request.get_host(),
            uri=request.build_absolute_uri("/"),
            user=request.user,
        )
        data = {
            "nonce": nonce.nonce,
            "expires_at": nonce.expires_at,
            "message": template.message(address=body.validated_data["address"]).text(),
            "template": template.as_dict(),
        }
        return Response(WalletNonceOutputSerializer(data).data, status=status.HTTP_201_CREATED)


class WalletLinkApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Link the wallet that signed a message from /wallets/nonce/",
        request=WalletLinkInputSerializer,
        responses={201: WalletOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = WalletLinkInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wallet = wallet_link(
            user=request.user,
            message=body.validated_data["message"],
            signature=body.validated_data["signature"],
            request_host=request.get_host(),
        )
        return Response(WalletOutputSerializer(wallet).data, status=status.HTTP_201_CREATED)


class WalletSetPrimaryApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Pay with this wallet", request=None, responses=WalletOutputSerializer)
    def post(self, request: Request, wallet_id: int) -> Response:
        wallet = wallet_get(user=request.user, wallet_id=wallet_id)
        wallet = wallet_set_primary(user=request.user, wallet=wallet)
        return Response(WalletOutputSerializer(wallet).data)


class WalletUnlinkApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Unlink a wallet from my account",
        request=None,
        responses=WalletUnlinkOutputSerializer,
    )
    def post(self, request: Request, wallet_id: int) -> Response:
        wallet = wallet_get(user=request.user, wallet_id=wallet_id)
        successor = wallet_unlink(user=request.user, wallet=wallet)
        return Response(WalletUnlinkOutputSerializer({"primary": successor}).data)

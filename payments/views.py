"""Wallet pages and the JSON endpoints static/js/wallet.js calls (all CSRF-protected).

GET  /wallet/                       linked wallets, balances, link button, dev faucet
POST /wallet/<id>/primary/          pay with this wallet
GET  /wallet/<id>/unlink/           confirm unlinking; POST unlinks
POST /wallet/<id>/faucet/           development faucet (refused unless enabled)
POST /wallet/siwe/nonce/            {"purpose": "link"|"login", "address": "0x..."} -> message
POST /wallet/link/                  {"message", "signature"} -> the linked wallet
POST /wallet/login/                 {"message", "signature", "next"} -> logs in, {"redirect"}
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from agentnexus.core.api.exceptions import error_body
from agentnexus.core.errors import ApplicationError, NotFoundError
from payments.auth import WALLET_BACKEND
from payments.chain.client import LOCAL_CHAIN_IDS
from payments.models import SiweNonce, Wallet
from payments.siwe import ChainUnavailableError
from payments.wallets import (
    dev_faucet,
    dev_faucet_enabled,
    siwe_nonce_issue,
    wallet_activity,
    wallet_balances,
    wallet_get,
    wallet_link,
    wallet_list,
    wallet_login,
    wallet_set_primary,
    wallet_unlink,
)

ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
MAX_BODY_BYTES = 16_384
CHAIN_NAMES = {
    1: "Ethereum",
    8453: "Base",
    11155111: "Sepolia",
    31337: "Local anvil",
    1337: "Local",
}


def chain_context() -> dict[str, Any]:
    """What the wallet script needs to put the browser wallet on the right chain."""
    chain_id = settings.CHAIN_ID
    local = chain_id in LOCAL_CHAIN_IDS
    return {
        "chain_id": chain_id,
        "chain_name": CHAIN_NAMES.get(chain_id, f"chain {chain_id}"),
        "chain_is_local": local,
        # Offered to the wallet (wallet_addEthereumChain) only for a local development chain: a
        # production node URL is the platform's, not something to hand to browsers.
        "chain_rpc_url": settings.CHAIN_RPC_URL if local else "",
    }


# ------------------------------------------------------------------------------- pages


def _wallet_rows(wallets: list[Wallet]) -> tuple[list[dict[str, Any]], str]:
    rows: list[dict[str, Any]] = []
    problem = ""
    for wallet in wallets:
        balances = None
        if not problem:
            try:
                balances = wallet_balances(address=wallet.address)
            except ChainUnavailableError as exc:
                problem = exc.message
        rows.append({"wallet": wallet, "balances": balances})
    return rows, problem


def _wallet_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    rows, balance_problem = _wallet_rows(wallet_list(user=request.user))
    context = {
        "rows": rows,
        "balance_problem": balance_problem,
        "faucet_enabled": dev_faucet_enabled(),
        **wallet_activity(user=request.user),
        **chain_context(),
    }
    return render(request, "payments/wallet.html", context, status=status)


@login_required
def wallet_page(request: HttpRequest) -> HttpResponse:
    return _wallet_page(request)


def _own_wallet_or_404(request: HttpRequest, wallet_id: int) -> Wallet:
    try:
        return wallet_get(user=request.user, wallet_id=wallet_id)
    except NotFoundError:
        raise Http404("No such wallet on your account.") from None


@login_required
@require_POST
def wallet_primary_view(request: HttpRequest, wallet_id: int) -> HttpResponse:
    wallet = _own_wallet_or_404(request, wallet_id)
    try:
        wallet_set_primary(user=request.user, wallet=wallet)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You now pay with {wallet.address}.")
    return redirect("payments:wallet")


@login_required
@require_http_methods(["GET", "POST"])
def wallet_unlink_view(request: HttpRequest, wallet_id: int) -> HttpResponse:
    wallet = _own_wallet_or_404(request, wallet_id)
    if request.method == "GET":
        others = Wallet.objects.filter(user=request.user).exclude(pk=wallet.pk).count()
        return render(
            request, "payments/wallet_unlink.html", {"wallet": wallet, "other_wallets": others}
        )
    try:
        successor = wallet_unlink(user=request.user, wallet=wallet)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        text = f"Unlinked {wallet.address}. It can no longer log in to this account."
        if successor is not None:
            text += f" You now pay with {successor.address}."
        messages.success(request, text)
    return redirect("payments:wallet")


@login_required
@require_POST
def wallet_faucet_view(request: HttpRequest, wallet_id: int) -> HttpResponse:
    wallet = _own_wallet_or_404(request, wallet_id)
    try:
        grant = dev_faucet(wallet=wallet)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.status_code == 403:
            return _wallet_page(request, status=403)
        return redirect("payments:wallet")
    text = f"Sent 1 test ETH to {grant.address}"
    if grant.stablecoin_units:
        text += " and 1,000 test USDC"
    messages.success(request, text + ". They are worthless outside this local chain.")
    return redirect("payments:wallet")


# --------------------------------------------------------------------- JSON endpoints


def _json_error(exc: ApplicationError) -> JsonResponse:
    body = error_body(exc.code, exc.message, exc.fields)
    body["error"].update(exc.extra)
    return JsonResponse(body, status=exc.status_code)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise ApplicationError("The request is too large.", code="validation_error")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApplicationError("Send a JSON object.", code="validation_error") from None
    if not isinstance(data, dict):
        raise ApplicationError("Send a JSON object.", code="validation_error")
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ApplicationError(
            f"“{name}” is required.", code="validation_error", fields={name: ["Required."]}
        )
    return value


def _not_logged_in() -> JsonResponse:
    return JsonResponse(
        error_body("not_authenticated", "Log in to link a wallet to your account."), status=403
    )


@require_POST
def siwe_nonce_view(request: HttpRequest) -> JsonResponse:
    """A fresh nonce and, given the wallet's address, the exact message for it to sign."""
    try:
        data = _json_body(request)
        purpose = data.get("purpose")
        if purpose not in SiweNonce.Purpose.values:
            raise ApplicationError(
                "“purpose” must be “link” or “login”.",
                code="validation_error",
                fields={"purpose": ["Choose “link” or “login”."]},
            )
        if purpose == SiweNonce.Purpose.LINK and not request.user.is_authenticated:
            return _not_logged_in()
        address = data.get("address")
        if address is not None and (not isinstance(address, str) or not ADDRESS_RE.match(address)):
            raise ApplicationError(
                "That is not an Ethereum address (0x followed by 40 hex digits).",
                code="validation_error",
                fields={"address": ["Enter a 0x-prefixed 20-byte hex address."]},
            )
        nonce, template = siwe_nonce_issue(
            purpose=purpose,
            domain=request.get_host(),
            uri=request.build_absolute_uri("/"),
            user=request.user if request.user.is_authenticated else None,
        )
    except ApplicationError as exc:
        return _json_error(exc)
    body: dict[str, Any] = {
        "nonce": nonce.nonce,
        "expires_at": nonce.expires_at.isoformat(),
        "template": template.as_dict(),
        "chain": chain_context(),
    }
    if address:
        body["message"] = template.message(address=address).text()
    return JsonResponse(body, status=201)


@require_POST
def wallet_link_view(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _not_logged_in()
    try:
        data = _json_body(request)
        wallet = wallet_link(
            user=request.user,
            message=_text(data, "message"),
            signature=_text(data, "signature"),
            request_host=request.get_host(),
        )
    except ApplicationError as exc:
        return _json_error(exc)
    messages.success(request, f"Wallet {wallet.address} is linked to your account.")
    return JsonResponse(
        {
            "wallet": {
                "id": wallet.pk,
                "address": wallet.address,
                "is_primary": wallet.is_primary,
                "is_contract": wallet.is_contract,
            },
            "redirect": reverse("payments:wallet"),
        },
        status=201,
    )


@require_POST
def wallet_login_view(request: HttpRequest) -> JsonResponse:
    if WALLET_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        raise ImproperlyConfigured(f"add {WALLET_BACKEND!r} to AUTHENTICATION_BACKENDS")
    try:
        data = _json_body(request)
        user = wallet_login(
            message=_text(data, "message"),
            signature=_text(data, "signature"),
            request_host=request.get_host(),
        )
    except ApplicationError as exc:
        return _json_error(exc)
    login(request, user, backend=WALLET_BACKEND)
    messages.success(request, "You are logged in with your wallet.")
    target = data.get("next")
    if not (
        isinstance(target, str)
        and target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = resolve_url(settings.LOGIN_REDIRECT_URL)
    return JsonResponse({"redirect": target})

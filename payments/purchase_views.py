"""Buying runs in the browser: choose and review, then the wallet pays on the purchase page."""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from marketplace.models import Agent, Currency
from payments.models import Purchase, PurchaseStatus, Wallet
from payments.purchases import MAX_RUNS, purchase_calls_for, purchase_initiate
from payments.selectors import developer_earnings
from payments.services import CURRENCY_DECIMALS


class BuyForm(forms.Form):
    runs = forms.IntegerField(
        label="Number of runs",
        min_value=1,
        max_value=MAX_RUNS,
        initial=3,
        help_text=f"Between 1 and {MAX_RUNS}. Unused runs are refunded to you when they expire.",
    )
    currency = forms.ChoiceField(label="Pay with", choices=Currency.choices)
    wallet = forms.ChoiceField(label="From wallet")
    terms = forms.BooleanField(
        label="I agree that the price is held in escrow and released to the developer only "
        "when a run succeeds; failed, timed-out and canceled runs are refunded.",
        required=True,
    )

    def __init__(self, *args, wallets, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wallet"].choices = [(w.address, w.label or w.address) for w in wallets]
        self.fields["currency"].choices = [(currency, currency)]
        self.fields["currency"].initial = currency


@login_required
def purchase_new(request: HttpRequest, slug: str) -> HttpResponse:
    agent = get_object_or_404(Agent.objects.select_related("current_version"), slug=slug)
    version = agent.current_version
    if version is None:
        raise Http404
    wallets = list(Wallet.objects.filter(user=request.user))
    form = BuyForm(
        request.POST if request.method == "POST" else None,
        wallets=wallets,
        currency=version.currency,
    )
    if request.method == "POST" and form.is_valid():
        try:
            purchase, _ = purchase_initiate(
                user=request.user,
                agent=agent,
                runs=form.cleaned_data["runs"],
                currency=form.cleaned_data["currency"],
                wallet_address=form.cleaned_data["wallet"],
                request=request,
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            return redirect("purchases:detail", purchase_id=purchase.public_id)
    return render(
        request,
        "payments/buy.html",
        {"agent": agent, "version": version, "form": form, "wallets": wallets},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def purchase_detail(request: HttpRequest, purchase_id) -> HttpResponse:
    purchase = get_object_or_404(
        Purchase.objects.select_related("agent", "deployment"), public_id=purchase_id
    )
    if purchase.user_id != request.user.pk and not request.user.is_staff:
        raise Http404
    calls: list[dict] = []
    error = ""
    if purchase.status == PurchaseStatus.VALIDATING and purchase.user_id == request.user.pk:
        try:
            calls = purchase_calls_for(purchase=purchase)
        except ApplicationError as exc:
            error = exc.message
    return render(
        request,
        "payments/purchase_detail.html",
        {
            "purchase": purchase,
            "agent": purchase.agent,
            "calls_json": json.dumps(calls),
            "total_display": format(
                Decimal(purchase.total)
                .scaleb(-CURRENCY_DECIMALS.get(purchase.currency, 18))
                .normalize(),
                "f",
            ),
            "error": error,
            "settlements": purchase.settlements.select_related("run").order_by("-id")[:50],
        },
    )


@login_required
def purchase_list(request: HttpRequest) -> HttpResponse:
    purchases = Purchase.objects.filter(user=request.user).select_related("agent")[:100]
    return render(request, "payments/purchase_list.html", {"purchases": purchases})


@login_required
def developer_earnings_view(request: HttpRequest) -> HttpResponse:
    developer = getattr(request.user, "developer_profile", None)
    if developer is None:
        raise Http404
    return render(
        request,
        "payments/earnings.html",
        {"earnings": developer_earnings(developer=developer), "developer": developer},
    )

"""Settlement task (thin): send every due settlement. Idempotent; safe to run concurrently."""

from celery import shared_task

from payments.settlement import settlements_send


@shared_task(name="payments.settle_due", ignore_result=True)
def settle_due() -> None:
    settlements_send()


@shared_task(name="payments.prepare_run_refs", ignore_result=True)
def prepare_run_refs() -> None:
    """Keep the escrow's run-reference words ahead of the next run ids pre-warmed, so every
    settlement stays under 100,000 gas (docs/decisions/0009-run-ref-bitmap-prewarm.md)."""
    from payments.settlement import run_refs_prepare

    run_refs_prepare()


@shared_task(
    name="payments.check_purchase",
    bind=True,
    ignore_result=True,
    max_retries=120,
)
def check_purchase(self, purchase_id: int) -> None:
    """Follow a purchase's transaction until the chain decides it (every 2 s, up to 4 min)."""
    from payments.models import PurchaseStatus
    from payments.purchases import purchase_check

    if purchase_check(purchase_id=purchase_id) == PurchaseStatus.PROCESSING:
        if self.request.is_eager:
            return  # run inline (tests): the caller checks again; no blocking retry loop
        raise self.retry(countdown=2)

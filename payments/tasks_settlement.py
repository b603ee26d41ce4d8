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

"""Deploy (or find) the escrow and entitlement contracts and list the catalog's agents on chain."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from payments.chain.client import ChainClient, ChainError
from payments.chain.keys import address_of, deployer_key, fee_recipient_address, orchestrator_key
from payments.services import chain_deploy


class Command(BaseCommand):
    help = (
        "Deploy AgentNexusEntitlements + AgentNexusEscrow (and a mock stablecoin on a local "
        "chain), record them, and register every listed agent. Safe to run repeatedly."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rpc-url", default=None, help="Default: CHAIN_RPC_URL.")
        parser.add_argument(
            "--redeploy", action="store_true", help="Deploy new contracts even if some exist."
        )

    def handle(self, *args, rpc_url: str | None, redeploy: bool, **options) -> None:
        rpc_url = rpc_url or settings.CHAIN_RPC_URL
        try:
            client = ChainClient(rpc_url, expected_chain_id=settings.CHAIN_ID)
            deployer = deployer_key()
            result = chain_deploy(
                client=client,
                deployer_key=deployer,
                orchestrator=address_of(orchestrator_key()),
                fee_recipient=fee_recipient_address(),
                admin=settings.CHAIN_ADMIN_ADDRESS or None,
                stablecoin=settings.CHAIN_STABLECOIN_ADDRESS or None,
                fee_bps=settings.CHAIN_FEE_BPS,
                payment_ttl=settings.CHAIN_PAYMENT_TTL_SECONDS,
                base_uri=settings.CHAIN_METADATA_BASE_URI,
                redeploy=redeploy,
                log=self.stdout.write,
            )
        except (ChainError, ImproperlyConfigured, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        record = result.deployment
        self.stdout.write(
            self.style.SUCCESS(
                f"chain {record.chain_id}: escrow {record.escrow_address}, entitlements "
                f"{record.entitlements_address}, stablecoin {record.stablecoin_address or '-'}"
                f" ({'deployed now' if result.deployed else 'already deployed'}); agents: "
                f"{len(result.registered)} registered, {len(result.updated)} updated, "
                f"{len(result.skipped)} skipped"
            )
        )

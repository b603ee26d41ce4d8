"""Re-encrypt all KYC ciphertext under KYC_ACTIVE_KEY_ID (after adding a new key)."""

from django.core.management.base import BaseCommand

from compliance.kyc import crypto
from compliance.kyc.services import kyc_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt KYC personal data and documents under the active key (KYC_ACTIVE_KEY_ID)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, batch_size: int, **options) -> None:
        counts = kyc_reencrypt(batch_size=batch_size)
        self.stdout.write(
            f"Re-encrypted {counts['submissions']} submissions and {counts['documents']} "
            f"documents under key {crypto.active_key_id()!r}. Old keys can now be removed."
        )

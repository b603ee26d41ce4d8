"""Authentication backend for logging in with a linked wallet (Sign-In with Ethereum).

Add "payments.auth.WalletBackend" to AUTHENTICATION_BACKENDS (beside ModelBackend and allauth's
backend). Sessions created by `django.contrib.auth.login(request, user, backend=WALLET_BACKEND)`
remember this backend, and Django asks it (`get_user`) for the user on every later request, so
the path must stay listed for as long as such sessions may exist.

Permissions are not answered here: `user.has_perm` asks every configured backend, and
ModelBackend answers them whichever backend logged the user in.
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from accounts.models import User
from agentnexus.core.errors import ApplicationError
from payments.wallets import wallet_login

WALLET_BACKEND = "payments.auth.WalletBackend"


class WalletBackend(BaseBackend):
    """`authenticate(request, siwe_message=..., siwe_signature=...)` returns the user whose linked
    wallet signed the message, or None. Views that want the reason for a refusal call
    `payments.wallets.wallet_login` directly and then `login(..., backend=WALLET_BACKEND)`."""

    def authenticate(
        self,
        request: HttpRequest | None,
        siwe_message: str | None = None,
        siwe_signature: str | None = None,
        **kwargs,
    ) -> User | None:
        if request is None or siwe_message is None or siwe_signature is None:
            return None  # someone else's credentials (email and password)
        try:
            user = wallet_login(
                message=siwe_message, signature=siwe_signature, request_host=request.get_host()
            )
        except ApplicationError:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def user_can_authenticate(user: User) -> bool:
        return getattr(user, "is_active", True)

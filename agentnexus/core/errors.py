"""Domain errors raised by services. Views and the API handler turn them into responses."""

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the action. `fields` maps field names to messages."""

    code = "invalid_request"
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    code = "not_found"
    status_code = 404


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status_code = 403


class ConflictError(ApplicationError):
    code = "conflict"
    status_code = 409


class LegalBlockError(ApplicationError):
    """Refused for legal reasons (sanctions, geo rules): HTTP 451 with the reason."""

    code = "unavailable_for_legal_reasons"
    status_code = 451

"""One JSON error shape for every API error (documented in docs/api.md):

{"error": {"code": "validation_error", "message": "...", "fields": {"rating": ["..."]}}}
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from agentnexus.core.errors import ApplicationError


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> Any:
    """Turn DRF ErrorDetail trees into plain strings, keeping the field structure."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_fields(detail: Any) -> tuple[str, dict]:
    if isinstance(detail, dict):
        fields = _flatten(detail)
        non_field = fields.pop("non_field_errors", None)
        first = non_field[0] if non_field else None
        if first is None and fields:
            name, problems = next(iter(fields.items()))
            problem = problems[0] if isinstance(problems, list) and problems else problems
            first = f"{name}: {problem}" if isinstance(problem, str) else f"{name} is invalid."
        if non_field:
            fields["non_field_errors"] = non_field
        return first or "Invalid input.", fields
    flat = _flatten(detail)
    if isinstance(flat, list):
        return (flat[0] if flat else "Invalid input."), {"non_field_errors": flat}
    return str(flat), {}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = error_body(exc.code, exc.message, exc.fields)
        body["error"].update(exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # Unexpected: Django's 500 handling (logged) takes over.

    if isinstance(exc, exceptions.ValidationError):
        message, fields = _validation_fields(exc.detail)
        response.data = error_body("validation_error", message, fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = "error"
        response.data = error_body(code, str(_flatten(detail)))
    return response

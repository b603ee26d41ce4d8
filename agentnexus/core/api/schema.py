"""drf-spectacular post-processing: document the one error shape on every operation."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable code, e.g. validation_error, not_found, "
                    "not_authenticated, authentication_failed, permission_denied, conflict, throttled.",
                },
                "message": {"type": "string", "description": "Human-readable summary."},
                "fields": {
                    "type": "object",
                    "description": "Problems per input field (field name to list of messages).",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault(
                    "default",
                    {"description": "An error, in the standard error shape.", "content": ref},
                )
    return result

"""A Django form generated from an agent version's input schema (top-level properties).

Scalars become typed fields with the schema's limits as HTML attributes (client-side checks);
arrays and objects become JSON text areas. The assembled input is then validated against the full
schema by runtime.services.run_input_validate (the server-side check that always runs).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

TEXTAREA_OVER = 200  # strings allowed to be longer than this get a text area


def _help(prop: dict) -> str:
    return str(prop.get("description", ""))


def _field_for(name: str, prop: dict, required: bool) -> forms.Field:
    label = str(prop.get("title") or name.replace("_", " ").capitalize())
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    common: dict[str, Any] = {"label": label, "required": required, "help_text": _help(prop)}
    if "default" in prop and not isinstance(prop["default"], dict | list):
        common["initial"] = prop["default"]
    if "enum" in prop:
        choices = [(json.dumps(v), str(v)) for v in prop["enum"]]
        if not required:
            choices = [("", "—"), *choices]
        if "initial" in common:
            common["initial"] = json.dumps(common["initial"])
        return forms.TypedChoiceField(
            choices=choices, coerce=json.loads, empty_value=None, **common
        )
    if kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if kind == "integer":
        return forms.IntegerField(
            min_value=prop.get("minimum"), max_value=prop.get("maximum"), **common
        )
    if kind == "number":
        return forms.FloatField(
            min_value=prop.get("minimum"), max_value=prop.get("maximum"), **common
        )
    if kind == "string":
        max_length = prop.get("maxLength")
        long_text = max_length is None or max_length > TEXTAREA_OVER
        widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}) if long_text else None
        field = forms.CharField(
            max_length=max_length,
            min_length=prop.get("minLength"),
            strip=False,
            widget=widget,
            **common,
        )
        if prop.get("pattern"):
            field.widget.attrs["pattern"] = prop["pattern"]
        return field
    # Arrays, objects, anything else: JSON typed by hand.
    example = prop.get("default", [] if kind == "array" else {})
    return forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "mono"}),
        **{**common, "initial": json.dumps(example, indent=2)},
        help_text=(common["help_text"] + " " if common["help_text"] else "") + "JSON.",
    )


SECRET_PREFIX = "secret__"  # noqa: S105 - a field-name prefix, not a secret


class RunInputForm(forms.Form):
    def __init__(
        self,
        *args,
        schema: dict,
        example: dict | None = None,
        secrets: list[dict] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema if isinstance(schema, dict) else {}
        required = set(self.schema.get("required", []))
        for name, prop in (self.schema.get("properties") or {}).items():
            if isinstance(prop, dict):
                self.fields[name] = _field_for(name, prop, name in required)
        # The secrets the manifest asks for: never shown again, never stored in clear.
        for secret in secrets or []:
            self.fields[SECRET_PREFIX + secret["name"]] = forms.CharField(
                label=f"Secret: {secret['name']}",
                help_text=f"{secret.get('description', '')} Sent only to this run, encrypted "
                "at rest and deleted when the run ends.".strip(),
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                max_length=8192,
                strip=False,
            )
        if example and not self.is_bound:
            for name, value in example.items():
                if name in self.fields:
                    field = self.fields[name]
                    if isinstance(field, forms.JSONField):
                        value = json.dumps(value, indent=2)
                    elif isinstance(field, forms.TypedChoiceField):
                        value = json.dumps(value)
                    self.initial[name] = value

    def input_data(self) -> dict:
        """The run input: filled fields only, so the schema's defaults apply to the rest."""
        data = {}
        for name, value in self.cleaned_data.items():
            if name.startswith(SECRET_PREFIX):
                continue
            if value in (None, "") and not self.fields[name].required:
                continue
            data[name] = value
        return data

    def secrets_data(self) -> dict[str, str]:
        return {
            name.removeprefix(SECRET_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(SECRET_PREFIX)
        }

    def add_input_errors(self, fields: dict[str, list[str]]) -> None:
        """Errors from run_input_validate are keyed input.<path>: show them at their field."""
        for path, problems in fields.items():
            top = path.removeprefix("input.").split(".")[0] if path.startswith("input.") else None
            if path.startswith("secrets."):
                top = SECRET_PREFIX + path.removeprefix("secrets.")
            for problem in problems:
                self.add_error(top if top in self.fields else None, problem)

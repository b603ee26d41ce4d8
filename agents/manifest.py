"""The agent manifest (`agent.yaml`): parse, validate with every problem at once, and type.

    manifest = manifest_load(text)        # YAML text -> Manifest, or ManifestError
    manifest = manifest_validate(data)    # an already parsed mapping (API JSON) -> Manifest

ManifestError.errors is a list of (field path, plain-language message), e.g.
("pricing.USDC", "USDC has 6 decimals: ..."), ("examples[1].input.name", "..."); "(root)" is
the manifest as a whole. The structure is agents/schemas/agent-manifest.schema.json (JSON Schema
draft 2020-12, each property with an `x-error` message); this module adds what a schema cannot
say: the interface schemas are valid draft 2020-12 schemas, the examples match them, prices are
exact in their token's decimals, `price` (legacy) and `pricing` are not both given, country codes
exist, secret names are unique. The fields are documented in docs/agent-manifest.md.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "agent-manifest.schema.json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_MANIFEST_BYTES = 2_000_000  # examples may carry sizeable inputs (a base64 PDF, ...)
MAX_ERRORS_PER_EXAMPLE = 10
ROOT = "(root)"

CATEGORIES = ("general", "crypto", "ai-ml", "automation")
TOKEN_DECIMALS = {"USDC": 6, "ETH": 18}
DEFAULT_DOCKERFILE = "Dockerfile"
DEFAULT_MEMORY_MB = 512
DEFAULT_CPUS = 1.0
DEFAULT_TIMEOUT_S = 300
DEFAULT_CONCURRENCY = 1

# ISO 3166-1 alpha-2, plus XK (Kosovo, user-assigned but used by every geo-IP database).
_ISO_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
"""
ISO_COUNTRIES = frozenset(_ISO_CODES.split())


# --------------------------------------------------------------------------------------- errors
class ManifestError(ValueError):
    """The manifest is invalid. `errors`: every problem found, as (field path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__(self._summary())

    def _summary(self) -> str:
        lines = [f"{path}: {message}" for path, message in self.errors]
        count = len(lines)
        head = f"The manifest has {count} problem{'s' if count != 1 else ''}"
        return head + (":\n  " + "\n  ".join(lines) if lines else ".")

    def as_dict(self) -> dict[str, list[str]]:
        """{path: [messages]} for forms and API error bodies."""
        out: dict[str, list[str]] = {}
        for path, message in self.errors:
            out.setdefault(path, []).append(message)
        return out


# ----------------------------------------------------------------------------------- the types
@dataclass(frozen=True)
class Example:
    input: Any
    output: Any = None
    has_output: bool = False  # `output: null` is a real expected output
    title: str = ""


@dataclass(frozen=True)
class Resources:
    memory_mb: int = DEFAULT_MEMORY_MB
    cpus: float = DEFAULT_CPUS
    timeout_s: int = DEFAULT_TIMEOUT_S
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass(frozen=True)
class Secret:
    name: str
    description: str


@dataclass(frozen=True)
class Permissions:
    network: Literal["none", "egress"] = "none"
    egress: tuple[str, ...] = ()  # hosts; recorded and shown, not enforced yet
    secrets: tuple[Secret, ...] = ()
    min_kyc_level: int = 0
    blocked_regions: tuple[str, ...] = ()  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class SafetyProfile:
    max_trade_pct_of_portfolio: float
    stop_loss_required: bool
    max_daily_loss_pct: float | None = None
    max_drawdown_pct: float | None = None


@dataclass(frozen=True)
class Manifest:
    slug: str
    name: str
    version: str
    summary: str
    description: str  # Markdown, to be rendered safely (nh3) by whoever shows it
    category: str
    tags: tuple[str, ...]
    homepage: str | None
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any]
    examples: tuple[Example, ...]
    dockerfile: str
    pricing: Mapping[str, Decimal]  # token -> price per run, in whole tokens
    resources: Resources
    permissions: Permissions
    safety: SafetyProfile | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)  # the data as given

    def as_dict(self) -> dict[str, Any]:
        """The normalized manifest (defaults filled in, `price` turned into `pricing`, prices as
        strings): JSON-compatible, and valid input for manifest_validate."""
        data: dict[str, Any] = {
            "slug": self.slug,
            "name": self.name,
            "version": self.version,
            "summary": self.summary,
            "description": self.description,
            "category": self.category,
            "tags": list(self.tags),
            "input_schema": copy.deepcopy(dict(self.input_schema)),
            "output_schema": copy.deepcopy(dict(self.output_schema)),
            "examples": [_example_dict(e) for e in self.examples],
            "dockerfile": self.dockerfile,
            "pricing": {token: _decimal_str(amount) for token, amount in self.pricing.items()},
            "resources": {
                "memory_mb": self.resources.memory_mb,
                "cpus": self.resources.cpus,
                "timeout_s": self.resources.timeout_s,
                "concurrency": self.resources.concurrency,
            },
            "permissions": {
                "network": {"egress": list(self.permissions.egress)}
                if self.permissions.network == "egress"
                else "none",
                "secrets": [
                    {"name": s.name, "description": s.description} for s in self.permissions.secrets
                ],
                "min_kyc_level": self.permissions.min_kyc_level,
                "blocked_regions": list(self.permissions.blocked_regions),
            },
        }
        if self.homepage:
            data["homepage"] = self.homepage
        if self.safety is not None:
            safety = {
                "max_trade_pct_of_portfolio": self.safety.max_trade_pct_of_portfolio,
                "stop_loss_required": self.safety.stop_loss_required,
            }
            if self.safety.max_daily_loss_pct is not None:
                safety["max_daily_loss_pct"] = self.safety.max_daily_loss_pct
            if self.safety.max_drawdown_pct is not None:
                safety["max_drawdown_pct"] = self.safety.max_drawdown_pct
            data["safety"] = safety
        return data


def _example_dict(example: Example) -> dict[str, Any]:
    out: dict[str, Any] = {"input": copy.deepcopy(example.input)}
    if example.has_output:
        out["output"] = copy.deepcopy(example.output)
    if example.title:
        out["title"] = example.title
    return out


def _decimal_str(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------------------------------- YAML
class _ManifestLoader(yaml.SafeLoader):
    """SafeLoader with JSON-like scalars: dates stay strings, only true/false are booleans (so
    `NO` is Norway, not False), no aliases (no billion laughs), no duplicate keys."""

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (*name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, FBT002 - PyYAML's signature
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: construct_mapping reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


_ManifestLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ManifestLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def manifest_load(text: str | bytes) -> Manifest:
    """Parse agent.yaml text and validate it. Raises ManifestError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ManifestError([(ROOT, "agent.yaml must be UTF-8 text.")]) from None
    if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            [(ROOT, f"agent.yaml is larger than {MAX_MANIFEST_BYTES // 1_000_000} MB.")]
        )
    try:
        data = yaml.load(text, Loader=_ManifestLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestError([(ROOT, f"agent.yaml is not valid YAML: {problem}{where}.")]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([(ROOT, f"agent.yaml is not valid YAML: {exc}.")]) from None
    if data is None:
        raise ManifestError([(ROOT, "agent.yaml is empty.")])
    return manifest_validate(data)


# ---------------------------------------------------------------------------------- validation
@functools.cache
def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (agents/schemas/agent-manifest.schema.json)."""
    return json.loads(SCHEMA_PATH.read_text())


@functools.cache
def _validator() -> Draft202012Validator:
    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def field_path(parts: Iterable[Any]) -> str:
    """("examples", 1, "input") -> "examples[1].input"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_$@-]+", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out or ROOT


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _schema_errors(data: Any) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for err in _validator().iter_errors(data):
        errors.extend(_plain_errors(err, use_custom=True))
    return errors


def _plain_errors(err: Any, *, use_custom: bool) -> list[tuple[str, str]]:
    """A jsonschema ValidationError as (path, plain message) rows; `x-error` messages from the
    manifest schema when use_custom."""
    parts = list(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    custom = schema.get("x-error") if use_custom else None
    if "propertyNames" in err.relative_schema_path:  # a bad key: point at the key itself
        return [(field_path([*parts, err.instance]), custom or f"{err.instance!r}: {err.message}")]
    if err.validator == "required":
        return [
            (field_path([*parts, name]), "This field is required.")
            for name in err.validator_value
            if isinstance(err.instance, dict) and name not in err.instance
        ]
    if err.validator == "additionalProperties" and err.validator_value is False:
        known = list(schema.get("properties", {}))
        rows = []
        for key in err.instance:
            if key in known or any(
                re.search(pattern, key) for pattern in schema.get("patternProperties", {})
            ):
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]}?" if close else "allowed here: " + ", ".join(known)
            rows.append((field_path([*parts, key]), f"Unknown field; {hint}"))
        return rows
    if custom:
        return [(field_path(parts), custom)]
    if err.validator == "type":
        wanted = err.validator_value
        names = [_TYPE_NAMES.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted)]
        return [(field_path(parts), f"Must be {' or '.join(names)} (got {_short(err.instance)}).")]
    return [(field_path(parts), err.message)]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(schema: Any, default: str) -> str:
    return schema.get("x-error", default) if isinstance(schema, dict) else default


def _json_errors(value: Any, parts: list[Any], errors: list[tuple[str, str]]) -> None:
    """Values JSON cannot carry (YAML binary, sets, non-text keys, NaN...)."""
    if len(errors) >= 50:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(
                    (field_path([*parts, str(key)]), "Keys must be text (quote them in YAML).")
                )
                continue
            _json_errors(item, [*parts, key], errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_errors(item, [*parts, index], errors)
    elif isinstance(value, float):
        if not math.isfinite(value):
            errors.append((field_path(parts), "Must be a finite number."))
    elif value is not None and not isinstance(value, str | int | bool):
        errors.append(
            (field_path(parts), f"A {type(value).__name__} value is not allowed; use JSON values.")
        )


def _interface_errors(data: dict, errors: list[tuple[str, str]]) -> dict[str, Any]:
    """Check input_schema/output_schema; returns {name: validator} for those that are valid."""
    validators: dict[str, Any] = {}
    for name in ("input_schema", "output_schema"):
        schema = data.get(name)
        if not isinstance(schema, dict):
            continue
        declared = schema.get("$schema")
        if declared is not None and str(declared).rstrip("#") != DRAFT_2020_12:
            errors.append(
                (
                    f"{name}.$schema",
                    f"Use JSON Schema draft 2020-12 ({DRAFT_2020_12}), or leave $schema out.",
                )
            )
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = field_path([name, *exc.absolute_path]) if exc.absolute_path else name
            errors.append((where, f"Not a valid JSON Schema (draft 2020-12): {exc.message}"))
            continue
        validators[name] = Draft202012Validator(schema)
    return validators


def _instance_errors(validator: Any, instance: Any, parts: list[Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        for err in validator.iter_errors(instance):
            for path, message in _plain_errors(err, use_custom=False):
                found.append((field_path([*parts]) + _suffix(path), message))
            if len(found) >= MAX_ERRORS_PER_EXAMPLE:
                break
    except Exception as exc:  # noqa: BLE001 - e.g. an unresolvable $ref in the schema
        found.append((field_path(parts), f"Could not be checked against its schema: {exc}"))
    return found


def _suffix(path: str) -> str:
    """A path relative to an instance, to append to the instance's own path."""
    if path == ROOT:
        return ""
    return path if path.startswith("[") else f".{path}"


def _example_errors(data: dict, validators: dict, errors: list[tuple[str, str]]) -> None:
    examples = data.get("examples")
    if not isinstance(examples, list):
        return
    for index, example in enumerate(examples):
        if not isinstance(example, dict):
            continue
        if "input" in example and "input_schema" in validators:
            errors.extend(
                _instance_errors(
                    validators["input_schema"], example["input"], ["examples", index, "input"]
                )
            )
        if "output" in example and "output_schema" in validators:
            errors.extend(
                _instance_errors(
                    validators["output_schema"], example["output"], ["examples", index, "output"]
                )
            )


def _price_errors(data: dict, errors: list[tuple[str, str]]) -> dict[str, Decimal]:
    """Checks `pricing` / legacy `price`; returns token -> amount for the well-formed ones."""
    pricing: dict[str, Any] = {}
    places: dict[str, list[Any]] = {}
    if "price" in data and "pricing" in data:
        errors.append(("price", "Give either price or pricing, not both (pricing is preferred)."))
    elif "price" not in data and "pricing" not in data:
        errors.append(("pricing", "This field is required: the price per run in each token."))
    if isinstance(data.get("pricing"), dict):
        for token, amount in data["pricing"].items():
            pricing[token] = amount
            places[token] = ["pricing", token]
    elif isinstance(data.get("price"), dict) and "pricing" not in data:
        price = data["price"]
        if isinstance(price.get("currency"), str) and "amount" in price:
            pricing[price["currency"]] = price["amount"]
            places[price["currency"]] = ["price", "amount"]
    amounts: dict[str, Decimal] = {}
    for token, amount in pricing.items():
        if token not in TOKEN_DECIMALS or not isinstance(amount, str):
            continue  # the schema reported it
        try:
            value = Decimal(amount)
        except InvalidOperation:
            continue  # the schema's pattern reported it
        if not value.is_finite() or value < 0:
            continue
        decimals = TOKEN_DECIMALS[token]
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > decimals:
            errors.append(
                (
                    field_path(places[token]),
                    f"{token} has {decimals} decimals: {amount} cannot be paid exactly; "
                    f"round it to at most {decimals} digits after the point.",
                )
            )
            continue
        amounts[token] = value
    return amounts


def _permission_errors(data: dict, errors: list[tuple[str, str]]) -> None:
    permissions = data.get("permissions")
    if not isinstance(permissions, dict):
        return
    regions = permissions.get("blocked_regions")
    if isinstance(regions, list):
        for index, code in enumerate(regions):
            if (
                isinstance(code, str)
                and re.fullmatch(r"[A-Z]{2}", code)
                and code not in ISO_COUNTRIES
            ):
                errors.append(
                    (
                        field_path(["permissions", "blocked_regions", index]),
                        f"{code} is not an ISO 3166-1 alpha-2 country code.",
                    )
                )
    secrets = permissions.get("secrets")
    if isinstance(secrets, list):
        seen: set[str] = set()
        for index, secret in enumerate(secrets):
            name = secret.get("name") if isinstance(secret, dict) else None
            if isinstance(name, str):
                if name in seen:
                    errors.append(
                        (
                            field_path(["permissions", "secrets", index, "name"]),
                            f"The secret {name} is listed twice.",
                        )
                    )
                seen.add(name)


def manifest_validate(data: Any) -> Manifest:
    """Validate a parsed manifest and return it typed. Raises ManifestError with every problem."""
    if not isinstance(data, dict):
        raise ManifestError([(ROOT, _message(manifest_schema(), "Must be a mapping."))])
    errors: list[tuple[str, str]] = []
    _json_errors(data, [], errors)
    if errors:  # the rest assumes JSON values
        raise ManifestError(errors)
    errors.extend(_schema_errors(data))
    validators = _interface_errors(data, errors)
    _example_errors(data, validators, errors)
    pricing = _price_errors(data, errors)
    _permission_errors(data, errors)
    if errors:
        unique = list(dict.fromkeys(errors))
        raise ManifestError(unique)
    return _build(data, pricing)


def _build(data: dict, pricing: dict[str, Decimal]) -> Manifest:
    resources = data.get("resources") or {}
    permissions = data.get("permissions") or {}
    network = permissions.get("network", "none")
    safety = data.get("safety")
    raw = copy.deepcopy(data)
    return Manifest(
        slug=data["slug"],
        name=data["name"].strip(),
        version=data["version"],
        summary=data["summary"].strip(),
        description=data.get("description", "") or "",
        category=data["category"],
        tags=tuple(data.get("tags") or ()),
        homepage=data.get("homepage") or None,
        input_schema=copy.deepcopy(data["input_schema"]),
        output_schema=copy.deepcopy(data["output_schema"]),
        examples=tuple(
            Example(
                input=copy.deepcopy(e["input"]),
                output=copy.deepcopy(e.get("output")),
                has_output="output" in e,
                title=e.get("title", ""),
            )
            for e in data["examples"]
        ),
        dockerfile=data.get("dockerfile", DEFAULT_DOCKERFILE),
        pricing=MappingProxyType(dict(pricing)),
        resources=Resources(
            memory_mb=int(resources.get("memory_mb", DEFAULT_MEMORY_MB)),
            cpus=float(resources.get("cpus", DEFAULT_CPUS)),
            timeout_s=int(resources.get("timeout_s", DEFAULT_TIMEOUT_S)),
            concurrency=int(resources.get("concurrency", DEFAULT_CONCURRENCY)),
        ),
        permissions=Permissions(
            network="egress" if isinstance(network, dict) else "none",
            egress=tuple(network.get("egress", ())) if isinstance(network, dict) else (),
            secrets=tuple(
                Secret(name=s["name"], description=s["description"].strip())
                for s in permissions.get("secrets") or ()
            ),
            min_kyc_level=int(permissions.get("min_kyc_level", 0)),
            blocked_regions=tuple(permissions.get("blocked_regions") or ()),
        ),
        safety=SafetyProfile(
            max_trade_pct_of_portfolio=float(safety["max_trade_pct_of_portfolio"]),
            stop_loss_required=bool(safety["stop_loss_required"]),
            max_daily_loss_pct=_optional_float(safety.get("max_daily_loss_pct")),
            max_drawdown_pct=_optional_float(safety.get("max_drawdown_pct")),
        )
        if isinstance(safety, dict)
        else None,
        raw=MappingProxyType(raw),
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


__all__ = [
    "CATEGORIES",
    "TOKEN_DECIMALS",
    "Example",
    "Manifest",
    "ManifestError",
    "Permissions",
    "Resources",
    "SafetyProfile",
    "Secret",
    "field_path",
    "manifest_load",
    "manifest_schema",
    "manifest_validate",
]

"""Turning catalog data into readable page content: safe Markdown and schema field lists."""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote",
    "h3", "h4", "h5", "a", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip


_HEADING_RE = re.compile(r"<(/?)h([1-3])\b")


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML, then sanitised by an allow-list: developer text never carries script."""
    html = markdown.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    # Pages own h1/h2; a developer's headings nest under the page's section headings.
    html = _HEADING_RE.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 2}", html)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


@dataclass
class SchemaField:
    name: str
    title: str
    type_label: str
    required: bool
    description: str = ""
    constraints: list[str] = field(default_factory=list)
    default: Any = None
    has_default: bool = False
    depth: int = 0


def _type_label(prop: dict) -> str:
    kind = prop.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if "enum" in prop:
        return "one of"
    if kind == "array":
        items = prop.get("items", {})
        return f"list of {_type_label(items)}s" if isinstance(items, dict) and items else "list"
    return {"integer": "whole number", "number": "number", "boolean": "yes/no"}.get(kind, kind)


_CONSTRAINTS = [
    ("minLength", "at least {} character{s}"),
    ("maxLength", "at most {} character{s}"),
    ("minimum", "minimum {}"),
    ("maximum", "maximum {}"),
    ("exclusiveMinimum", "more than {}"),
    ("exclusiveMaximum", "less than {}"),
    ("minItems", "at least {} item{s}"),
    ("maxItems", "at most {} item{s}"),
    ("pattern", "pattern {}"),
    ("format", "format: {}"),
]


def _constraints(prop: dict) -> list[str]:
    found = [
        text.format(prop[key], s="" if prop[key] == 1 else "s")
        for key, text in _CONSTRAINTS
        if key in prop
    ]
    if "enum" in prop:
        found.insert(0, ", ".join(str(v) for v in prop["enum"]))
    return found


def schema_fields(schema: dict | None, *, depth: int = 0, max_depth: int = 3) -> list[SchemaField]:
    """Flatten an object schema into rows a person can read; nested objects are indented."""
    if not isinstance(schema, dict):
        return []
    required = set(schema.get("required", []))
    rows: list[SchemaField] = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        rows.append(
            SchemaField(
                name=name,
                title=prop.get("title", name.replace("_", " ").capitalize()),
                type_label=_type_label(prop),
                required=name in required,
                description=prop.get("description", ""),
                constraints=_constraints(prop),
                default=prop.get("default"),
                has_default="default" in prop,
                depth=depth,
            )
        )
        if prop.get("type") == "object" and depth < max_depth:
            rows.extend(schema_fields(prop, depth=depth + 1, max_depth=max_depth))
        items = prop.get("items")
        if (
            prop.get("type") == "array"
            and isinstance(items, dict)
            and items.get("type") == "object"
        ) and depth < max_depth:
            rows.extend(schema_fields(items, depth=depth + 1, max_depth=max_depth))
    return rows


CURRENCY_DECIMALS = {"USDC": 2, "ETH": 6}


def format_price(amount: Decimal | None, currency: str) -> str:
    """1.5 USDC -> '1.50 USDC'; small ETH amounts keep significant digits."""
    if amount is None:
        return "—"
    places = CURRENCY_DECIMALS.get(currency, 2)
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places))
    text = f"{value:,.{places}f}"
    if currency != "USDC" and "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {currency}"

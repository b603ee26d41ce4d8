import json
from decimal import Decimal

from django import template

from marketplace.presentation import format_price, render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    return render_markdown(text)


@register.simple_tag
def price(version) -> str:
    if version is None:
        return "—"
    return format_price(version.price, version.currency)


@register.filter
def stars(value) -> str:
    """4.25 -> '★★★★☆' (rounded to the nearest whole star, for display beside the number)."""
    full = int((Decimal(value or 0) + Decimal("0.5")) // 1)
    return "★" * full + "☆" * (5 - full)


@register.filter
def pretty_json(value) -> str:
    """Indented JSON for display; the template engine escapes it."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)

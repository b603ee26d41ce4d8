from decimal import Decimal

from marketplace.presentation import format_price, render_markdown, schema_fields


def test_schema_fields_are_readable_and_nested():
    schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri", "minLength": 1, "description": "Page"},
            "mode": {"type": "string", "enum": ["paper", "live"], "default": "paper"},
            "limits": {
                "type": "object",
                "properties": {"max_pct": {"type": "number", "maximum": 10}},
            },
            "symbols": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        },
    }
    rows = {row.name: row for row in schema_fields(schema)}
    assert rows["url"].required and rows["url"].constraints == [
        "at least 1 character",
        "format: uri",
    ]
    assert rows["mode"].type_label == "one of" and rows["mode"].constraints[0] == "paper, live"
    assert rows["mode"].has_default and rows["mode"].default == "paper"
    assert rows["max_pct"].depth == 1 and rows["max_pct"].constraints == ["maximum 10"]
    assert rows["symbols"].type_label == "list of strings"
    assert schema_fields(None) == [] and schema_fields({"type": "string"}) == []


def test_prices_are_formatted_per_currency():
    assert format_price(Decimal("1.5"), "USDC") == "1.50 USDC"
    assert format_price(Decimal("1234.5"), "USDC") == "1,234.50 USDC"
    assert format_price(Decimal("0.001500000000000000"), "ETH") == "0.0015 ETH"
    assert format_price(None, "USDC") == "—"


def test_markdown_is_sanitised_and_headings_nest_under_the_page():
    html = render_markdown("# Title\n\n<img src=x onerror=alert(1)> **ok** [a](https://x.test)")
    assert "<h3>Title</h3>" in html
    assert "onerror" not in html and "<img" not in html
    assert "<strong>ok</strong>" in html
    assert 'rel="nofollow noopener noreferrer"' in html

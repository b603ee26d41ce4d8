"""agent.yaml: the catalog manifests validate; every problem is reported at once with its path."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from agents.manifest import (
    SCHEMA_PATH,
    Manifest,
    ManifestError,
    manifest_load,
    manifest_schema,
    manifest_validate,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_MANIFESTS = sorted((ROOT / "agents" / "catalog").glob("*/agent.yaml"))

FULL = """
slug: hl-paper-trader
name: Hyperliquid paper trader
version: 2.1.0-beta.1+build.7
summary: Simulates a strategy on a price series.
description: |
  **Paper** trading only.
category: crypto
tags: [trading, hyperliquid]
homepage: https://example.com/trader
input_schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    prices: {type: array, items: {type: number}, minItems: 1}
    strategy: {type: string}
  required: [prices, strategy]
output_schema:
  type: object
  properties:
    pnl: {type: number}
  required: [pnl]
examples:
  - title: Flat market
    input: {prices: [1, 1, 1], strategy: sma}
    output: {pnl: 0}
  - input: {prices: [1, 2], strategy: sma}
dockerfile: docker/Dockerfile
pricing: {USDC: "0.25", ETH: "0.000000000000000001"}
resources: {memory_mb: 1024, cpus: 2, timeout_s: 600, concurrency: 4}
permissions:
  network:
    egress: [api.hyperliquid.xyz, "*.example.com:8443"]
  secrets:
    - {name: HL_API_KEY, description: Read-only API key.}
  min_kyc_level: 2
  blocked_regions: [US, NO]
safety:
  max_trade_pct_of_portfolio: 5
  stop_loss_required: true
  max_daily_loss_pct: 3
  max_drawdown_pct: 20
"""


def full() -> dict:
    """FULL as a plain dict (read as agent.yaml is: NO stays Norway)."""
    return copy.deepcopy(dict(manifest_load(FULL).raw))


def errors_of(data) -> dict[str, str]:
    with pytest.raises(ManifestError) as info:
        manifest_validate(data)
    return dict(info.value.errors)


def test_schema_file_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(manifest_schema())
    assert SCHEMA_PATH.name == "agent-manifest.schema.json"


@pytest.mark.parametrize("path", EXAMPLE_MANIFESTS, ids=lambda p: p.parent.name)
def test_example_manifests_validate(path):
    manifest = manifest_load(path.read_text())
    assert manifest.slug == path.parent.name
    assert manifest.pricing["USDC"] >= 0  # legacy price: {amount, currency}
    assert manifest.dockerfile == "Dockerfile"
    assert manifest.permissions.network == "none"


def test_full_manifest_is_typed():
    m = manifest_load(FULL)
    assert isinstance(m, Manifest)
    assert m.version == "2.1.0-beta.1+build.7"
    assert m.tags == ("trading", "hyperliquid")
    assert dict(m.pricing) == {"USDC": Decimal("0.25"), "ETH": Decimal("1E-18")}
    assert (m.resources.memory_mb, m.resources.cpus, m.resources.timeout_s) == (1024, 2.0, 600)
    assert m.resources.concurrency == 4
    assert m.permissions.network == "egress"
    assert m.permissions.egress == ("api.hyperliquid.xyz", "*.example.com:8443")
    assert m.permissions.secrets[0].name == "HL_API_KEY"
    assert m.permissions.blocked_regions == ("US", "NO")  # NO is Norway, not false
    assert m.safety.max_trade_pct_of_portfolio == 5 and m.safety.stop_loss_required is True
    assert m.examples[0].has_output and not m.examples[1].has_output
    assert m.examples[0].title == "Flat market"
    assert m.raw["slug"] == "hl-paper-trader"
    with pytest.raises(AttributeError):
        m.slug = "other"  # frozen
    # as_dict() is normalized and round-trips.
    again = manifest_validate(m.as_dict())
    assert again == m
    assert m.as_dict()["pricing"] == {"USDC": "0.25", "ETH": "0.000000000000000001"}


def test_defaults():
    data = full()
    for key in ("resources", "permissions", "safety", "dockerfile", "tags", "homepage"):
        data.pop(key)
    m = manifest_validate(data)
    assert m.dockerfile == "Dockerfile"
    assert (m.resources.memory_mb, m.resources.cpus, m.resources.timeout_s) == (512, 1.0, 300)
    assert m.permissions.network == "none" and m.permissions.min_kyc_level == 0
    assert m.safety is None and m.homepage is None and m.tags == ()


def test_every_problem_is_reported_at_once_with_its_path():
    data = full()
    data.update(
        slug="Bad_Slug",
        version="1.0",
        category="finance",
        homepage="ftp://example.com",
        tags=["ok", "Not ok"],
        pricing={"USDC": "0.1234567", "ETH": 0.1, "DOGE": "1"},
        resources={"memory_mb": 9000, "cpus": 8, "timeout_s": 3600, "concurrency": 0},
        safety={"max_trade_pct_of_portfolio": 150},
        colour="blue",
    )
    data["examples"][1]["input"] = {"prices": "no", "strategy": 1}
    data["examples"][0]["output"] = {"pnl": "zero"}
    data["examples"].append({"inputs": {}})
    data["permissions"]["min_kyc_level"] = 4
    data["permissions"]["blocked_regions"] = ["US", "ZZ", "usa"]
    data["permissions"]["network"] = {"egress": ["Not A Host"]}
    data["permissions"]["secrets"].append({"name": "HL_API_KEY", "description": "again"})
    data["output_schema"] = {"type": "nope"}
    errors = errors_of(data)
    expected = {
        "slug",
        "version",
        "category",
        "homepage",
        "tags[1]",
        "pricing.USDC",
        "pricing.ETH",
        "pricing.DOGE",
        "resources.memory_mb",
        "resources.cpus",
        "resources.timeout_s",
        "resources.concurrency",
        "safety.max_trade_pct_of_portfolio",
        "safety.stop_loss_required",
        "colour",
        "examples[1].input.prices",
        "examples[1].input.strategy",
        "examples[2].input",
        "examples[2].inputs",
        "permissions.min_kyc_level",
        "permissions.blocked_regions[1]",
        "permissions.blocked_regions[2]",
        "permissions.network.egress[0]",
        "permissions.secrets[1].name",
        "output_schema.type",
    }
    assert expected <= set(errors), sorted(expected - set(errors))
    assert "6 decimals" in errors["pricing.USDC"]
    assert "quoted decimal string" in errors["pricing.ETH"]
    assert "USDC and ETH" in errors["pricing.DOGE"]
    assert "required" in errors["examples[2].input"]
    assert "did you mean input?" in errors["examples[2].inputs"]
    assert "general, crypto, ai-ml, automation" in errors["category"]
    assert "Must be a list" in errors["examples[1].input.prices"]
    assert "8192" in errors["resources.memory_mb"]
    assert "Not a valid JSON Schema" in errors["output_schema.type"]
    # output_schema is invalid: examples' outputs are not checked against it
    assert "examples[0].output.pnl" not in errors


def test_example_output_checked_against_output_schema():
    data = full()
    data["examples"][0]["output"] = {"pnl": "zero"}
    assert "examples[0].output.pnl" in errors_of(data)


def test_missing_required_fields():
    errors = errors_of({"slug": "x1"})
    for name in ("name", "version", "summary", "category", "input_schema", "output_schema"):
        assert errors[name] == "This field is required."
    assert errors["examples"] == "This field is required."
    assert "pricing" in errors


def test_input_schema_must_be_valid_draft_2020_12():
    data = full()
    data["input_schema"] = {"type": "object", "properties": {"a": {"minLength": -1}}}
    data["output_schema"] = {"$schema": "http://json-schema.org/draft-07/schema#"}
    errors = errors_of(data)
    assert "input_schema.properties.a.minLength" in errors
    assert "draft 2020-12" in errors["output_schema.$schema"]
    data = full()
    data["input_schema"] = {"type": "object", "properties": {"a": {"pattern": "("}}}
    assert any(p.startswith("input_schema") for p in errors_of(data))


def test_examples_required_and_validated():
    data = full()
    data["examples"] = []
    assert "examples" in errors_of(data)
    data["examples"] = [{"input": {"strategy": "x"}}]
    errors = errors_of(data)
    assert errors == {"examples[0].input": "'prices' is a required property"} or (
        "examples[0].input.prices" in errors
    )


def test_price_and_pricing():
    data = full()
    data.pop("pricing")
    data["price"] = {"amount": "0.5", "currency": "ETH"}
    assert dict(manifest_validate(data).pricing) == {"ETH": Decimal("0.5")}
    data["pricing"] = {"USDC": "1"}
    assert "price" in errors_of(data)
    data.pop("price")
    data["pricing"] = {"ETH": "0.0000000000000000001"}  # 19 decimals
    assert "18 decimals" in errors_of(data)["pricing.ETH"]
    data["pricing"] = {"USDC": "-1"}
    assert "pricing.USDC" in errors_of(data)
    data["pricing"] = {"USDC": "1.500000"}  # trailing zeros are exact
    assert manifest_validate(data).pricing["USDC"] == Decimal("1.5")
    data["pricing"] = {}
    assert "pricing" in errors_of(data)


def test_network_none_or_egress():
    data = full()
    data["permissions"]["network"] = "none"
    assert manifest_validate(data).permissions.egress == ()
    data["permissions"]["network"] = "all"
    assert "permissions.network" in errors_of(data)
    data["permissions"]["network"] = {"egress": []}
    assert "permissions.network.egress" in errors_of(data)


def test_yaml_problems():
    cases = {
        "a: [": "not valid YAML",
        "- 1\n- 2\n": "mapping",
        "": "empty",
        "x: &a [1]\ny: *a\n": "aliases",
        "slug: a\nslug: b\n": "twice",
    }
    for text, fragment in cases.items():
        with pytest.raises(ManifestError) as info:
            manifest_load(text)
        ((path, message),) = info.value.errors
        assert path == "(root)" and fragment in message, (text, message)
    with pytest.raises(ManifestError):
        manifest_load(b"\xff\xfe")


def test_yaml_dates_stay_text_and_non_json_values_are_refused():
    text = FULL.replace(
        "input: {prices: [1, 2], strategy: sma}", "input: {prices: [1], strategy: 2024-01-02}"
    )
    m = manifest_load(text)
    assert m.examples[1].input["strategy"] == "2024-01-02"
    data = full()
    data["examples"][0]["input"] = {1: "x"}
    assert "examples[0].input.1" in errors_of(data)
    data = full()
    data["examples"][0]["input"]["prices"] = [float("nan")]
    assert "examples[0].input.prices[0]" in errors_of(data)


def test_error_message_lists_everything():
    data = copy.deepcopy(full())
    data["slug"] = "!"
    data["version"] = "x"
    with pytest.raises(ManifestError) as info:
        manifest_validate(data)
    text = str(info.value)
    assert "2 problems" in text and "slug:" in text and "version:" in text
    assert set(info.value.as_dict()) == {"slug", "version"}


def test_not_a_mapping():
    with pytest.raises(ManifestError) as info:
        manifest_validate(["slug"])
    assert info.value.errors[0][0] == "(root)"

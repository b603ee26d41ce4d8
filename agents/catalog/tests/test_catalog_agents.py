"""The catalog agents (agents/catalog/<slug>): their logic offline, their manifests, and one real
run of each image through the Docker backend."""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml

from agents.catalog.tests.pdfgen import make_pdf

CATALOG = Path(__file__).resolve().parents[1]
SLUGS = ("pdf-extractor", "knowledge-qa", "hyperliquid-paper-trader")
SDK_IMAGE = "agentnexus/agent-python:1"


def load_logic(slug: str):
    """agents/catalog/<slug>/logic.py (the directory name has hyphens: loaded by path)."""
    name = f"catalog_{slug.replace('-', '_')}_logic"
    spec = importlib.util.spec_from_file_location(name, CATALOG / slug / "logic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def manifest(slug: str) -> dict:
    return yaml.safe_load((CATALOG / slug / "agent.yaml").read_text())


pdf = load_logic("pdf-extractor")
qa = load_logic("knowledge-qa")
trader = load_logic("hyperliquid-paper-trader")
RUN = {
    "pdf-extractor": lambda i: pdf.extract_base64(i["pdf_base64"], i.get("max_chars")),
    "knowledge-qa": lambda i: qa.answer(i["question"], i["documents"], i.get("top_k") or 3),
    "hyperliquid-paper-trader": trader.simulate,
}


# ------------------------------------------------------------------------------------ manifests


@pytest.mark.parametrize("slug", SLUGS)
def test_manifest_is_complete_and_its_examples_hold(slug):
    data = manifest(slug)
    assert data["slug"] == slug
    for key in ("name", "version", "summary", "description", "category", "tags", "resources"):
        assert data[key], key
    assert data["price"]["currency"] == "USDC" and 0 < float(data["price"]["amount"]) < 1
    res = data["resources"]
    assert 0 < res["memory_mb"] <= 8192 and 0 < res["cpus"] <= 4 and 0 < res["timeout_s"] <= 1800
    for key in ("input_schema", "output_schema"):
        jsonschema.Draft202012Validator.check_schema(data[key])
        assert data[key]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert len(data["examples"]) >= 2
    for example in data["examples"]:
        jsonschema.validate(
            example["input"], data["input_schema"], cls=jsonschema.Draft202012Validator
        )
        output = json.loads(json.dumps(RUN[slug](example["input"]), allow_nan=False))
        jsonschema.validate(output, data["output_schema"], cls=jsonschema.Draft202012Validator)
        assert output == example["output"]  # expected outputs are deterministic


def test_trader_safety_profile_matches_the_code():
    data = manifest("hyperliquid-paper-trader")
    assert data["category"] == "crypto" and "trading" in data["tags"]
    assert data["safety"] == trader.SAFETY


# ------------------------------------------------------------------------------- pdf-extractor

PAGES = [["Hello World, caf\u00e9 costs 5\u20ac", "Second line (with parens)"], ["Page two"]]
VARIANTS = [
    {},
    {"compress": True},
    {"xref_stream": True},
    {"font": "tounicode", "compress": True},
    {"use_tj_array": True, "hex_strings": True},
    {"font": "tounicode", "use_tj_array": True, "xref_stream": True},
]


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: ",".join(o) or "plain")
def test_pdf_text_of_every_page(options):
    result = pdf.extract(make_pdf(PAGES, **options))
    assert result["pages"] == 2
    assert [p["text"] for p in result["per_page"]] == [
        "Hello World, caf\u00e9 costs 5\u20ac\nSecond line (with parens)",
        "Page two",
    ]
    assert (
        result["text"]
        == "Hello World, caf\u00e9 costs 5\u20ac\nSecond line (with parens)\n\nPage two"
    )
    assert result["truncated"] is False and result["warnings"] == []


def test_pdf_metadata_and_dates():
    info = {
        "Title": "Rapport \u00e9t\u00e9 \u2603",
        "Author": "Ada",
        "CreationDate": "D:20240102030405+01'00'",
    }
    for xref_stream in (False, True):
        meta = pdf.extract(make_pdf([["x"]], info=info, xref_stream=xref_stream))["metadata"]
        assert meta == {
            "title": "Rapport \u00e9t\u00e9 \u2603",
            "author": "Ada",
            "creation_date": "2024-01-02T03:04:05+01:00",
            "pdf_version": "1.7",
        }


def test_pdf_max_chars_truncates_text_and_pages():
    result = pdf.extract(make_pdf([["a" * 50], ["b" * 50]]), max_chars=60)
    assert result["truncated"] is True
    assert [len(p["text"]) for p in result["per_page"]] == [50, 8]
    assert [p["chars"] for p in result["per_page"]] == [50, 50]
    assert len(result["text"]) <= 60


def test_pdf_with_a_broken_xref_is_recovered_by_scanning():
    data = make_pdf(PAGES, compress=True)
    broken = data.replace(b"startxref\n", b"startxref\n1").replace(b"xref\n0 ", b"xref\nzz ")
    assert pdf.extract(broken)["per_page"][1]["text"] == "Page two"


def test_pdf_filters_and_encodings():
    assert pdf._lzw(bytes.fromhex("800b6050220c0c8501")) == b"-----A---B"  # PDF spec example
    assert (
        pdf.glyph_to_unicode("eacute") == "\u00e9" and pdf.glyph_to_unicode("uni20AC") == "\u20ac"
    )
    stream = pdf.Stream({"Filter": pdf.Name("ASCIIHexDecode")}, b"48 65 6C6C6F>")
    assert pdf.decode_stream(stream, lambda x: x) == b"Hello"
    stream = pdf.Stream({"Filter": [pdf.Name("ASCII85Decode")]}, b'<~87cURD]i,"Ebo80~>')
    assert pdf.decode_stream(stream, lambda x: x) == b"Hello World!"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"hello, not a pdf", "not_a_pdf"),
        (b"%PDF-1.4\ntrailer << /Encrypt 1 0 R /Root 2 0 R >>", "encrypted_pdf"),
    ],
)
def test_pdf_errors(data, code):
    with pytest.raises(pdf.PDFError) as info:
        pdf.extract(data)
    assert info.value.code == code
    with pytest.raises(pdf.PDFError):
        pdf.extract_base64("@@not base64@@")


def test_pdf_base64_data_url():
    value = "data:application/pdf;base64," + base64.b64encode(make_pdf([["ok"]])).decode()
    assert pdf.extract_base64(value)["text"] == "ok"


# -------------------------------------------------------------------------------- knowledge-qa

DOCS = [
    {
        "id": "hl",
        "title": "Hyperliquid",
        "text": "Hyperliquid is a decentralized exchange for perpetual futures.\n\nThe HYPE token launched in November 2024 with an airdrop. Fees are paid in USDC.",
    },
    {
        "id": "eth",
        "title": "Ethereum",
        "text": "Ethereum moved to proof of stake in September 2022 with the Merge.",
    },
]


def test_qa_answers_from_the_best_passage():
    result = qa.answer("When was the HYPE token launched?", DOCS)
    assert result["answered"] is True
    assert result["answer"] == "The HYPE token launched in November 2024 with an airdrop."
    assert result["passages"][0]["doc_id"] == "hl"
    scores = [p["score"] for p in result["passages"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_qa_honest_no_answer():
    result = qa.answer("Who painted the Mona Lisa?", DOCS)
    assert result == {"answer": qa.NO_ANSWER, "answered": False, "coverage": 0, "passages": []}
    assert qa.answer("what is it?", DOCS)["answered"] is False  # only stopwords


def test_bm25_matches_the_formula():
    docs = [["cat", "sat"], ["dog", "sat", "sat", "mat"], ["bird"]]
    index = qa.BM25(docs)
    avgdl = 7 / 3
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # "sat" is in 2 of 3 documents
    expected = idf * 2 * 2.5 / (2 + 1.5 * (1 - 0.75 + 0.75 * 4 / avgdl))
    assert index.score(["sat"], 1) == pytest.approx(expected)
    assert index.score(["sat"], 2) == 0


def test_qa_splits_long_paragraphs_and_respects_top_k():
    long = " ".join(f"Sentence number {i} talks about topic{i}." for i in range(60))
    passages = qa.split_passages(long)
    assert len(passages) > 1 and all(len(p.split()) <= qa.PASSAGE_WORDS + 10 for p in passages)
    result = qa.answer("topic42", [{"text": long}], top_k=1)
    assert len(result["passages"]) == 1 and "topic42" in result["answer"]
    assert result["passages"][0]["doc_id"] == "doc-1"


# -------------------------------------------------------------------- hyperliquid-paper-trader


def _run(prices, strategy, **kw):
    return trader.simulate({"strategy": strategy, "prices": prices, **kw})


def test_trader_sma_cross_orders_pnl_and_curve():
    prices = [round(100 + 8 * math.sin(i / 5) + i * 0.15, 2) for i in range(60)]
    result = _run(prices, {"type": "sma_cross", "params": {"fast": 3, "slow": 10}}, fee_bps=0)
    assert len(result["equity_curve"]) == 60 and result["halted"] is None
    filled = [o for o in result["orders"] if o["status"] == "filled"]
    assert filled and filled[0]["side"] == "buy" and filled[0]["reason"] == "signal_entry"
    assert filled[0]["notional"] == pytest.approx(1000)  # default max_position_pct 10 % of 10,000
    assert result["pnl"] == pytest.approx(result["equity_curve"][-1] - 10_000, abs=0.01)
    assert result["fees_paid"] == 0


def test_trader_fees_are_charged_in_bps():
    result = _run(
        [100, 110, 121], {"type": "buy_and_hold"}, fee_bps=10, risk={"max_position_pct": 20}
    )
    order = result["orders"][0]
    assert order["notional"] == 2000 and order["fee"] == pytest.approx(2.0)
    assert result["pnl"] == pytest.approx(20 * 21 - 2.0, abs=0.01)  # 20 units, 100 -> 121


def test_trader_refuses_orders_beyond_the_position_limit():
    result = _run(
        [100, 101, 102],
        {"type": "buy_and_hold", "params": {"size_pct": 30}},
        risk={"max_position_pct": 25},
    )
    assert [o["status"] for o in result["orders"]] == ["rejected"]
    assert result["pnl"] == 0 and result["open_position"] is None


def test_trader_clamps_limits_to_the_safety_profile():
    result = _run(
        [100, 101],
        {"type": "buy_and_hold", "params": {"size_pct": 90}},
        risk={"max_position_pct": 90},
    )
    assert result["risk"]["max_position_pct"] == trader.SAFETY["max_trade_pct_of_portfolio"]
    assert result["orders"][0]["status"] == "rejected" and result["notes"]


def test_trader_stop_loss_fills_at_the_stop_or_the_gap_open():
    bars = [{"o": 100, "h": 100, "l": 100, "c": 100}, {"o": 99, "h": 99, "l": 90, "c": 97}]
    result = _run(
        bars,
        {"type": "buy_and_hold"},
        fee_bps=0,
        risk={"stop_loss_pct": 5, "max_daily_loss_pct": 5},
    )
    assert result["orders"][-1]["reason"] == "stop_loss" and result["orders"][-1]["price"] == 95
    bars[1] = {"o": 80, "h": 81, "l": 79, "c": 80}
    result = _run(
        bars,
        {"type": "buy_and_hold"},
        fee_bps=0,
        risk={"stop_loss_pct": 5, "max_daily_loss_pct": 5},
    )
    assert result["orders"][-1]["price"] == 80  # gapped through the stop


def test_trader_halts_for_the_day_after_the_daily_loss_limit():
    # 25 % position, -20 % in one bar = -5 % of equity; limit 2 %; stop far away.
    prices = [100, 100, 80, 80, 85, 90, 95]
    result = _run(
        prices,
        {"type": "buy_and_hold", "params": {"size_pct": 25}},
        bars_per_day=3,
        fee_bps=0,
        risk={"max_position_pct": 25, "max_daily_loss_pct": 2, "stop_loss_pct": 50},
    )
    assert [o["reason"] for o in result["orders"]] == ["signal_entry", "daily_loss_limit"]
    assert [e["type"] for e in result["risk_events"]] == ["daily_halt", "resume"]
    assert result["halted"] is None and result["pnl"] == pytest.approx(-500)


def test_trader_stops_at_the_max_drawdown():
    prices = [100, 100] + [100 * 0.9**i for i in range(1, 20)]
    result = _run(
        prices,
        {"type": "buy_and_hold", "params": {"size_pct": 25}},
        bars_per_day=1,  # every bar its own day: the daily limit never stops the slide
        fee_bps=0,
        risk={
            "max_position_pct": 25,
            "max_daily_loss_pct": 5,
            "max_drawdown_pct": 6,
            "stop_loss_pct": 50,
        },
    )
    assert result["halted"] == "max_drawdown"
    assert result["orders"][-1]["reason"] == "max_drawdown"
    assert 6 <= result["max_drawdown_pct"] < 8
    stop = next(e["bar"] for e in result["risk_events"] if e["type"] == "halt")
    assert len(set(result["equity_curve"][stop:])) == 1  # flat after the stop


@pytest.mark.parametrize("kind", ["sma_cross", "breakout", "rsi_reversion", "buy_and_hold"])
def test_trader_strategies_with_shorts_run(kind):
    prices = [100 + 10 * math.sin(i / 4) for i in range(200)]
    result = _run(
        prices, {"type": kind, "params": {"allow_short": True}}, risk={"stop_loss_pct": 10}
    )
    assert result["equity_curve"] and result["max_drawdown_pct"] >= 0
    assert json.dumps(result, allow_nan=False)
    if kind != "buy_and_hold":
        assert {o["side"] for o in result["orders"]} == {"buy", "sell"}


def test_trader_bad_input():
    with pytest.raises(trader.InputError):
        _run([100, 101], {"type": "martingale"})
    with pytest.raises(trader.InputError):
        _run([100, -1], {"type": "buy_and_hold"})
    with pytest.raises(trader.InputError):
        _run([100, 101], {"type": "sma_cross", "params": {"fast": 10, "slow": 5}})


# -------------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def socket_root():
    root = tempfile.mkdtemp(prefix="anx-cat-")  # short: Unix socket paths are limited
    yield Path(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def backend(socket_root, runtime_images):
    from runtime.backends.docker import DockerBackend

    return DockerBackend(socket_root=socket_root)


@pytest.mark.parametrize("slug", SLUGS)
def test_image_builds_and_runs_its_first_example(backend, slug):
    from runtime.backends.base import RunSpec

    data = manifest(slug)
    # Not agentnexus/catalog-<slug> (scripts/docker_images.sh's tag): this test builds its own.
    tag = f"agentnexus/test-catalog-{slug}:{data['version']}"
    started = time.monotonic()
    backend.build_image(
        context_dir=CATALOG / slug,
        tag=tag,
        labels={"agentnexus.test": "1", "agentnexus.agent": slug},
        buildargs={"BASE_IMAGE": SDK_IMAGE},
        timeout_s=300,
    )
    built = time.monotonic() - started
    res = data["resources"]
    run_id = uuid.uuid4().hex
    spec = RunSpec(run_id=run_id, image=tag, memory_mb=res["memory_mb"], cpus=res["cpus"],
                   timeout_s=res["timeout_s"], labels={"agentnexus.agent": slug})  # fmt: skip
    events: list[dict] = []
    example = data["examples"][0]
    payload = {
        "input": example["input"],
        "secrets": {},
        "metadata": {"run_id": run_id, "agent": slug, "version": data["version"], "deadline": None},
    }
    outcome = backend.execute(spec=spec, payload=payload, on_event=events.append)
    print(
        f"{slug}: build {built:.2f} s, run {outcome.duration_ms} ms (start {outcome.container_started_ms} ms)"
    )
    assert outcome.status == "succeeded", (outcome, events)
    jsonschema.validate(outcome.output, data["output_schema"], cls=jsonschema.Draft202012Validator)
    assert outcome.output == example["output"]
    assert any(e["type"] == "log" for e in events)
    assert not [c for c in backend.list_run_containers() if c.run_id == run_id]

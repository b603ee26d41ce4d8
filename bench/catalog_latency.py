#!/usr/bin/env python
"""Catalog latency under load: 10,000 agents in PostgreSQL, the production ASGI server, 32 clients.

    DATABASE_URL=postgres://dev:dev@127.0.0.1:5432/agentnexus_bench \
    REDIS_URL=redis://127.0.0.1:6379/3 \
    .venv/bin/python bench/catalog_latency.py [--duration 15] [--clients 32] [--agents 10000]

Steps: create the database if it is missing, migrate, top the catalog up to --agents listed agents
(bulk inserts; the migration-0002 trigger fills search_vector), VACUUM ANALYZE, collectstatic, then
serve the app with `uvicorn agentnexus.asgi:application --workers 2` under the production settings
on a free 127.0.0.1 port, and load each endpoint in turn with --clients keep-alive connections for
--duration seconds after a warm-up:

    /healthz                           framework floor (JsonResponse, no database)
    /api/v1/agents/?search=<term>      the API search, terms rotating per request
    /marketplace/                      the catalog page
    /marketplace/?q=<term>             the catalog page with a search, terms rotating

It prints requests, requests/s, p50/p95/p99 latency, errors and the p95 ratio to the floor, writes
bench/results/catalog_latency.json and exits 1 if any response was not a 200 (2 on a setup problem). The server is always
stopped at the end. See bench/README.md for the method and docs/benchmarks.md for results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
LUA_SCRIPT = BENCH_DIR / "catalog.lua"
DEFAULT_OUTPUT = BENCH_DIR / "results" / "catalog_latency.json"
HOST = "127.0.0.1"
SETTINGS = "agentnexus.settings.production"

SPEC_P95_MS = 200.0
AIM_P95_MS = 50.0
# Distinct X-Forwarded-For addresses the load rotates through (see the README: the API's
# per-client anonymous throttle must see ordinary clients, not one client doing everything).
CLIENT_IP_POOL = 4096
REQUEST_TIMEOUT_S = 10.0
# A shared machine: wait for it to be quiet before each run, and measure again when other
# processes took a noticeable share of the 2 cores during it.
QUIET_CORES = 0.15
DISTURBED_CORES = 0.10
# Each worker must hold at least this share of the keep-alive connections for a run to count.
BALANCE_MIN_SHARE = 0.35

# Realistic searches: whole words, prefixes ("summ", "translat") and two-word phrases, narrow
# and broad. All come from the seeded vocabulary, so each one matches something.
SEARCH_TERMS = [
    "summarizer", "pdf", "invoice", "whale", "gas fee", "defi yield", "sentiment", "translat",
    "image caption", "slack", "webhook", "backup", "trading bot", "wallet", "nft", "csv",
    "code review", "arbitrage", "email", "monitor", "ocr", "cron", "stablecoin", "report",
    "summ", "alerts", "liquidity", "speech",
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Configuration and the database
# --------------------------------------------------------------------------------------------


class BenchError(Exception):
    """A problem the user must fix; printed without a traceback."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Catalog latency benchmark (PostgreSQL + Redis + uvicorn, production settings).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds measured per endpoint"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per endpoint")
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument(
        "--agents", type=int, default=10_000, help="listed agents to have in the DB"
    )
    parser.add_argument(
        "--skip-seed", action="store_true", help="use the data as it is (still migrates)"
    )
    parser.add_argument(
        "--recreate-db",
        action="store_true",
        help="drop and re-create the benchmark database first (its name must contain 'bench'); "
        "needed when migrations were rewritten in place",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "asyncio"],
        default="auto",
        help="load generator: wrk when installed (auto), else the built-in asyncio one",
    )
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (1 keeps its CPU low)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["floor", "api_search", "marketplace", "marketplace_search"],
        help="run only these endpoints (repeatable); the floor always runs",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="before each run, wait up to this long for other processes to leave the CPUs idle",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=3,
        help="measure an endpoint again (keeping the least disturbed run) when other processes "
        "used the CPUs during it",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="instead of the load test: time each query the catalog views run and print "
        "EXPLAIN (ANALYZE, BUFFERS) for them",
    )
    parser.add_argument(
        "--keep-server",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep the server up this long after the run (for py-spy on the printed worker pids)",
    )
    args = parser.parse_args(argv)
    # Bounded by design: a typo must not turn into an hour of load or a million agents.
    if not 1 <= args.duration <= 300:
        parser.error("--duration must be between 1 and 300 seconds")
    if not 0 <= args.warmup <= 60:
        parser.error("--warmup must be between 0 and 60 seconds")
    if not 1 <= args.clients <= 512:
        parser.error("--clients must be between 1 and 512")
    if not 1 <= args.agents <= 200_000:
        parser.error("--agents must be between 1 and 200,000")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be between 1 and 16")
    if not 1 <= args.wrk_threads <= args.clients:
        parser.error("--wrk-threads must be between 1 and --clients")
    if not 0 <= args.quiet_wait <= 600:
        parser.error("--quiet-wait must be between 0 and 600 seconds")
    if not 0 <= args.retries <= 5:
        parser.error("--retries must be between 0 and 5")
    if not 0 <= args.keep_server <= 600:
        parser.error("--keep-server must be between 0 and 600 seconds")
    return args


def service_urls() -> tuple[str, str]:
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    scheme = urllib.parse.urlsplit(db_url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise BenchError(
            "DATABASE_URL must point at PostgreSQL (postgres://user:password@127.0.0.1:5432/dbname); "
            f"got {scheme + '://…' if scheme else 'nothing'}. The benchmark measures the PostgreSQL "
            "full-text search; SQLite is not representative."
        )
    if urllib.parse.urlsplit(redis_url).scheme not in {"redis", "rediss", "unix"}:
        raise BenchError(
            "REDIS_URL must point at Redis (for example redis://127.0.0.1:6379/3): production "
            "settings use it for the cache and the API throttle."
        )
    for name, url in (("DATABASE_URL", db_url), ("REDIS_URL", redis_url)):
        host = urllib.parse.urlsplit(url).hostname
        if host not in {None, "", "127.0.0.1", "localhost", "::1"}:
            raise BenchError(f"{name} must be on this machine (127.0.0.1); got host {host!r}.")
    return db_url, redis_url


def _libpq_url(url: str, dbname: str | None = None) -> str:
    parts = urllib.parse.urlsplit(url)
    path = f"/{dbname}" if dbname is not None else parts.path
    return urllib.parse.urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))


def ensure_database(db_url: str, *, recreate: bool = False) -> None:
    """Create the benchmark database when it does not exist (needs a CREATEDB role)."""
    import psycopg
    from psycopg import sql

    dbname = urllib.parse.unquote(urllib.parse.urlsplit(db_url).path.lstrip("/"))
    if not dbname:
        raise BenchError("DATABASE_URL names no database (…/dbname at the end).")
    if recreate:
        if "bench" not in dbname:
            raise BenchError(
                f"--recreate-db drops only benchmark databases; {dbname!r} lacks 'bench'"
            )
        print(f"· dropping database {dbname}")
        try:
            with psycopg.connect(
                _libpq_url(db_url, "postgres"), autocommit=True, connect_timeout=5
            ) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(dbname)
                    )
                )
        except psycopg.Error as exc:
            raise BenchError(f"cannot drop database {dbname}: {exc}".strip()) from exc
    try:
        with psycopg.connect(_libpq_url(db_url), connect_timeout=5):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BenchError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
    print(f"· creating database {dbname}")
    try:
        with psycopg.connect(
            _libpq_url(db_url, "postgres"), autocommit=True, connect_timeout=5
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise BenchError(f"cannot create database {dbname}: {exc}".strip()) from exc


def server_env(db_url: str, redis_url: str) -> dict[str, str]:
    """Production settings, booted over plain HTTP on loopback."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            # wrk plays a proxy: its X-Forwarded-For pool stands for many clients.
            "API_NUM_PROXIES": "1",
        }
    )
    return env


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def close_db_connections() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
        if hasattr(conn, "close_pool"):
            conn.close_pool()


# --------------------------------------------------------------------------------------------
# Data: 10,000 listed agents with realistic, varied text
# --------------------------------------------------------------------------------------------

VOCAB: dict[str, dict[str, list[str]]] = {
    "general": {
        "formats": ["plain text or base64 PDF", "CSV or XLSX as base64", "raw email (RFC 822)", "JSON", "Markdown or HTML"],
        "domains": [
            "PDF", "Invoice", "Email", "Meeting Notes", "Spreadsheet", "CSV", "Contract", "Resume",
            "Receipt", "Web Page", "Calendar", "Log File", "Survey", "Markdown", "JSON", "Address",
            "Timesheet", "Product Catalog", "Support Ticket", "Expense Report",
        ],
        "kinds": [
            "Summarizer", "Extractor", "Analyzer", "Converter", "Validator", "Cleaner", "Formatter",
            "Parser", "Checker", "Organizer", "Deduplicator", "Comparer",
        ],
        "tags": [
            "documents", "pdf", "email", "productivity", "data", "csv", "office", "parsing", "text",
            "reports", "finance", "extraction",
        ],
        "noun": ["files", "documents", "records", "exports"],
        "results": [
            "a clean JSON record", "a one-page brief", "a tidy CSV", "a list of issues to fix",
            "highlighted action items", "a short report",
        ],
        "audiences": ["finance teams", "small businesses", "researchers", "operations teams", "freelancers"],
        "features": [
            "Handles messy input: odd encodings, merged cells and scanned pages",
            "Keeps the original structure so results map back to the source",
            "Flags anything it is unsure about instead of guessing",
            "Works on documents up to 200 pages",
            "Outputs plain JSON that spreadsheets and scripts can read",
            "Detects duplicates and near-duplicates",
            "Supports English, French, German and Spanish",
            "Never stores your files after the run",
        ],
    },
    "crypto": {
        "formats": ["a wallet address", "a token contract address", "a list of pairs", "a JSON watchlist", "a chain and block range"],
        "domains": [
            "Whale", "Gas Fee", "DeFi Yield", "Token", "Wallet", "NFT Floor", "Liquidity Pool",
            "Arbitrage", "Funding Rate", "Mempool", "Stablecoin", "Airdrop", "Staking", "Bridge",
            "Perpetuals", "Order Book", "Smart Contract", "Portfolio", "On-Chain", "Memecoin",
        ],
        "kinds": [
            "Tracker", "Optimizer", "Scanner", "Alert Bot", "Analyzer", "Trading Bot", "Monitor",
            "Auditor", "Rebalancer", "Signal Generator", "Dashboard", "Sniper",
        ],
        "tags": [
            "defi", "ethereum", "trading", "onchain", "nft", "wallet", "gas", "yield", "solana",
            "bitcoin", "arbitrage", "alerts", "hyperliquid", "security",
        ],
        "noun": ["activity", "markets", "positions", "flows"],
        "results": [
            "instant alerts", "a ranked watchlist", "a risk score", "a daily P&L report",
            "ready-to-sign transactions", "a liquidity heatmap",
        ],
        "audiences": ["traders", "DeFi users", "DAO treasuries", "market makers", "on-chain analysts"],
        "features": [
            "Reads Ethereum, Arbitrum, Base and Solana",
            "Paper mode replays historical prices before you risk funds",
            "Estimates slippage and gas before suggesting a trade",
            "Labels known exchange and bridge wallets",
            "Alerts within one block of the event",
            "Exports every signal with its on-chain evidence",
            "Risk limits per position and per day",
            "No custody: it never holds your keys",
        ],
    },
    "ai-ml": {
        "formats": ["plain text", "a base64 image", "a base64 audio clip", "JSON records", "a question plus documents"],
        "domains": [
            "Sentiment", "Image Caption", "Speech", "Document Q&A", "Code Review", "Named Entity",
            "Topic", "Translation", "Text Embedding", "OCR", "Object Detection", "Summarization",
            "Keyword", "Language", "Toxicity", "Chatbot", "Recommendation", "Anomaly", "Forecast",
            "Face Blur",
        ],
        "kinds": [
            "Model", "Classifier", "Detector", "Generator", "Assistant", "Tagger", "Transcriber",
            "Translator", "Ranker", "Predictor", "Labeler", "Engine",
        ],
        "tags": [
            "nlp", "vision", "llm", "machine-learning", "classification", "translation", "speech",
            "embeddings", "ocr", "forecasting", "summarization", "rag",
        ],
        "noun": ["inputs", "texts", "images", "datasets"],
        "results": [
            "labels with confidence scores", "a concise answer with sources", "structured JSON",
            "ranked results", "clean captions", "a short summary",
        ],
        "audiences": ["product teams", "support desks", "data scientists", "content moderators", "developers"],
        "features": [
            "Runs an open-weights model inside the container: no data leaves the run",
            "Returns a confidence score with every label",
            "Batch mode for up to 1,000 items per run",
            "Handles 40+ languages",
            "Deterministic output for the same input and seed",
            "Explains its answer with the passages it used",
            "GPU-free: tuned to run on 2 CPUs",
            "Evaluated on public benchmarks; results in the changelog",
        ],
    },
    "automation": {
        "formats": ["a cron expression and a target URL", "a webhook payload", "an RSS or Atom URL", "a JSON job definition", "a CSV of contacts"],
        "domains": [
            "Cron", "Webhook", "Slack Digest", "RSS Feed", "Backup", "Uptime", "Invoice Reminder",
            "CRM Sync", "Weekly Report", "Social Post", "Inventory", "GitHub Issue", "Calendar Sync",
            "Newsletter", "Data Pipeline", "Price Watch", "Form", "Lead", "Status Page", "File Sync",
        ],
        "kinds": [
            "Scheduler", "Notifier", "Router", "Syncer", "Runner", "Watcher", "Publisher",
            "Workflow", "Relay", "Dispatcher", "Aggregator", "Bot",
        ],
        "tags": [
            "automation", "slack", "webhooks", "scheduling", "notifications", "integration",
            "workflow", "monitoring", "email", "github", "rss", "reports",
        ],
        "noun": ["events", "jobs", "updates", "feeds"],
        "results": [
            "a Slack message", "a webhook call", "an email digest", "a status report",
            "a retry-safe job log", "a weekly summary",
        ],
        "audiences": ["DevOps teams", "marketing teams", "sales ops", "founders", "IT admins"],
        "features": [
            "Retries with backoff and never sends the same message twice",
            "Cron-style schedules with time zones",
            "Posts to Slack, Discord, email or any webhook",
            "Keeps a log of every run you can download",
            "Dry-run mode shows what would happen",
            "Templates for the common cases, editable in the input",
            "Rate-limits itself to respect the APIs it calls",
            "Idempotent: safe to re-run after a failure",
        ],
    },
}  # fmt: skip

KIND_VERBS = {
    "Summarizer": "summarizes", "Extractor": "extracts the key fields from", "Analyzer": "analyzes",
    "Converter": "converts", "Validator": "validates", "Cleaner": "cleans up",
    "Formatter": "formats", "Parser": "parses", "Checker": "checks", "Organizer": "organizes",
    "Deduplicator": "deduplicates", "Comparer": "compares", "Tracker": "tracks",
    "Optimizer": "optimizes", "Scanner": "scans", "Alert Bot": "watches", "Trading Bot": "trades on",
    "Monitor": "monitors", "Auditor": "audits", "Rebalancer": "rebalances",
    "Signal Generator": "turns into signals", "Dashboard": "charts", "Sniper": "snipes",
    "Model": "models", "Classifier": "classifies", "Detector": "detects patterns in",
    "Generator": "generates", "Assistant": "answers questions about", "Tagger": "tags",
    "Transcriber": "transcribes", "Translator": "translates", "Ranker": "ranks",
    "Predictor": "predicts", "Labeler": "labels", "Engine": "processes", "Scheduler": "schedules",
    "Notifier": "sends notifications about", "Router": "routes", "Syncer": "syncs",
    "Runner": "runs", "Watcher": "watches", "Publisher": "publishes", "Workflow": "automates",
    "Relay": "relays", "Dispatcher": "dispatches", "Aggregator": "aggregates", "Bot": "handles",
}  # fmt: skip

PREFIXES = ["", "", "", "", "Smart", "Rapid", "Pro", "Auto", "Nova", "Atlas", "Swift", "Lumen",
            "Orbit", "Quant", "Clear", "Deep", "Open", "Micro", "Hyper", "Zen"]  # fmt: skip
QUALIFIERS = ["in seconds", "with no setup", "on a schedule you choose", "with audit-friendly logs",
              "without sending data anywhere", "at a fixed price per run"]  # fmt: skip
STUDIO_FIRST = ["Nimbus", "Cobalt", "Helix", "Arbor", "Quartz", "Vector", "Beacon", "Pioneer",
                "Summit", "Harbor", "Crimson", "Aurora", "Tidal", "Granite", "Ember"]  # fmt: skip
STUDIO_SECOND = ["Labs", "Studio", "Systems", "AI", "Works"]
BENCH_SLUG_PREFIX = "bench-"
BENCH_EMAIL_DOMAIN = "bench.agentnexus.invalid"
DEVELOPERS = 60

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "input": {
            "type": "string",
            "title": "Input",
            "minLength": 1,
            "description": "What to process.",
        },
        "language": {"type": "string", "enum": ["en", "fr", "de", "es"], "default": "en"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
    },
    "required": ["input"],
    "additionalProperties": False,
}
OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "result": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object"}},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["result"],
}


def _lower_words(text: str) -> str:
    return " ".join(word if word.isupper() else word.lower() for word in text.split())


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class AgentSpec:
    category: str
    name: str
    summary: str
    description: str
    tags: list[str]
    status: str
    featured: bool
    rating_avg: Decimal
    rating_count: int
    runs_total: int
    runs_succeeded: int
    created_days_ago: float
    prices: list[Decimal]
    memory_mb: int
    cpus: Decimal
    timeout_seconds: int


def make_agent_spec(rng: random.Random) -> AgentSpec:
    category = rng.choices(list(VOCAB), weights=[35, 25, 25, 15])[0]
    words = VOCAB[category]
    domain, kind = rng.choice(words["domains"]), rng.choice(words["kinds"])
    prefix = rng.choice(PREFIXES)
    name = " ".join(part for part in (prefix, domain, kind) if part)
    verb = KIND_VERBS[kind]
    subject = f"{_lower_words(domain)} {rng.choice(words['noun'])}"
    summary = (
        f"{verb[0].upper()}{verb[1:]} {subject} for {rng.choice(words['audiences'])} and returns "
        f"{rng.choice(words['results'])}, {rng.choice(QUALIFIERS)}."
    )[:160]
    features = rng.sample(words["features"], k=rng.randint(3, 5))
    seconds = rng.choice([2, 5, 10, 20, 45, 90])
    description = (
        f"**{name}** {verb} {subject} for {rng.choice(words['audiences'])}.\n\n"
        "### What it does\n\n"
        + "".join(f"- {feature}\n" for feature in features)
        + "\n### Input and output\n\n"
        f"Send the {subject} as `input` ({rng.choice(words['formats'])}); get back "
        f"{rng.choice(words['results'])}. Typical runs finish in about {seconds} seconds.\n\n"
        f"Built for {rng.choice(words['audiences'])} who want {_lower_words(domain)} work done "
        f"{rng.choice(QUALIFIERS)}.\n"
    )
    tags = sorted(set(rng.sample(words["tags"], k=rng.randint(2, 5))))
    roll = rng.random()
    status = "deprecated" if roll < 0.03 else "maintenance" if roll < 0.07 else "active"
    runs_total = 0 if rng.random() < 0.15 else min(int(rng.paretovariate(1.1) * 40), 2_000_000)
    rating_count = 0 if runs_total == 0 else min(int(runs_total * rng.uniform(0.0, 0.03)), 50_000)
    rating_avg = (
        Decimal(str(round(rng.triangular(2.0, 5.0, 4.4), 2))) if rating_count else Decimal("0")
    )
    base_price = (
        Decimal("0") if rng.random() < 0.08 else Decimal(str(round(10 ** rng.uniform(-2, 1), 2)))
    )
    versions = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
    prices = [
        max(Decimal("0"), base_price - Decimal("0.01") * (versions - 1 - i))
        for i in range(versions)
    ]
    return AgentSpec(
        category=category,
        name=name[:80],
        summary=summary,
        description=description,
        tags=tags,
        status=status,
        featured=rng.random() < 0.005,
        rating_avg=rating_avg,
        rating_count=rating_count,
        runs_total=runs_total,
        runs_succeeded=int(runs_total * rng.uniform(0.8, 1.0)),
        created_days_ago=rng.uniform(0, 720),
        prices=prices,
        memory_mb=rng.choice([256, 512, 1024, 2048, 4096]),
        cpus=rng.choice([Decimal("0.5"), Decimal("1"), Decimal("2")]),
        timeout_seconds=rng.choice([60, 120, 300, 600, 1800]),
    )


def listed_agent_count() -> int:
    from marketplace.selectors import CatalogQuery, agent_search

    return agent_search(query=CatalogQuery()).count()


def _bench_developers() -> list:
    from django.contrib.auth.hashers import make_password

    from accounts.models import DeveloperProfile, User

    emails = [f"bench-dev-{i:03d}@{BENCH_EMAIL_DOMAIN}" for i in range(DEVELOPERS)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    rng = random.Random(7)
    User.objects.bulk_create(
        User(
            email=email,
            display_name=f"{rng.choice(STUDIO_FIRST)} {rng.choice(STUDIO_SECOND)}"[:50],
            password=make_password(None),  # unusable: nobody signs in as these
        )
        for email in emails
        if email not in existing
    )
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    have = set(DeveloperProfile.objects.filter(user__in=users).values_list("user_id", flat=True))
    DeveloperProfile.objects.bulk_create(
        DeveloperProfile(
            user=user,
            display_name=user.display_name,
            slug=f"bench-{_slugify(user.display_name)}-{i:03d}",
            bio="Benchmark developer.",
            verified=i % 10 < 7,
        )
        for i, user in enumerate(users)
        if user.pk not in have
    )
    return list(DeveloperProfile.objects.filter(user__in=users).order_by("slug"))


def seed(target: int) -> int:
    """Add bench agents until `target` listed agents exist. Returns how many were created."""
    from django.db import transaction
    from django.utils import timezone

    from marketplace.models import Agent, AgentVersion, Category

    need = target - listed_agent_count()
    if need <= 0:
        return 0
    categories = {c.slug: c for c in Category.objects.all()}
    missing = sorted(set(VOCAB) - set(categories))
    if missing:
        raise BenchError(f"categories missing after migrate: {', '.join(missing)}")
    started = time.perf_counter()
    with transaction.atomic():  # all or nothing: an interrupted seed leaves no half-made agents
        developers = _bench_developers()
        numbers = [
            int(match.group(1))
            for slug in Agent.objects.filter(slug__startswith=BENCH_SLUG_PREFIX).values_list(
                "slug", flat=True
            )
            if (match := re.match(rf"{BENCH_SLUG_PREFIX}(\d+)-", slug))
        ]
        first = max(numbers, default=-1) + 1
        rng = random.Random(20_000 + first)
        now = timezone.now()
        agents: list[Agent] = []
        specs: list[AgentSpec] = []
        created_listed = 0
        while created_listed < need:
            spec = make_agent_spec(rng)
            number = first + len(agents)
            agents.append(
                Agent(
                    slug=f"{BENCH_SLUG_PREFIX}{number:06d}-{_slugify(spec.name)}"[:80],
                    name=spec.name,
                    summary=spec.summary,
                    description=spec.description,
                    category=categories[spec.category],
                    tags=spec.tags,
                    developer=rng.choice(developers),
                    status=spec.status,
                    featured=spec.featured,
                    rating_avg=spec.rating_avg,
                    rating_count=spec.rating_count,
                    runs_total=spec.runs_total,
                    runs_succeeded=spec.runs_succeeded,
                )
            )
            specs.append(spec)
            created_listed += spec.status != "deprecated"
        Agent.objects.bulk_create(agents, batch_size=1000)  # the trigger fills search_vector
        versions: list[AgentVersion] = []
        current: list[AgentVersion] = []
        for agent, spec in zip(agents, specs, strict=True):
            for i, price in enumerate(spec.prices):
                number = f"1.{i}.{rng.randint(0, 9)}"
                version = AgentVersion(
                    agent=agent,
                    version=number,
                    changelog="Initial release." if i == 0 else "Faster and more accurate.",
                    image_ref=f"registry.agentnexus.io/{agent.developer.slug}/{agent.slug[:60]}:{number}",
                    input_schema=INPUT_SCHEMA,
                    output_schema=OUTPUT_SCHEMA,
                    example_input={"input": "hello", "limit": 3},
                    memory_mb=spec.memory_mb,
                    cpus=spec.cpus,
                    timeout_seconds=spec.timeout_seconds,
                    price=price,
                    currency="USDC",
                )
                versions.append(version)
            current.append(versions[-1])
        AgentVersion.objects.bulk_create(versions, batch_size=1000)
        for agent, spec, version in zip(agents, specs, current, strict=True):
            # What agent_set_current_version does, in bulk.
            agent.current_version, agent.list_price = version, version.price
            agent.created_at = now - dt.timedelta(days=spec.created_days_ago)
        # None of these columns is watched by the search trigger: vectors are not recomputed.
        Agent.objects.bulk_update(
            agents, ["current_version", "list_price", "created_at"], batch_size=1000
        )
    print(
        f"· seeded {len(agents)} agents ({created_listed} listed) with {len(versions)} versions "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return len(agents)


def schema_mismatch() -> str | None:
    """None when every model's table and columns exist; otherwise what is missing."""
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for model in apps.get_models():
            meta = model._meta
            if not meta.managed or meta.proxy:
                continue
            if meta.db_table not in tables:
                return f"table {meta.db_table} is missing"
            columns = {
                col.name
                for col in connection.introspection.get_table_description(cursor, meta.db_table)
            }
            missing = [f.column for f in meta.local_concrete_fields if f.column not in columns]
            if missing:
                return f"{meta.db_table} lacks {', '.join(missing)}"
    return None


def vacuum_analyze(*, full: bool) -> None:
    """Fresh statistics and visibility map; after a seed also compact the tables (the
    current_version update leaves a dead copy of every new row behind)."""
    from django.db import connection

    options = "FULL, ANALYZE" if full else "ANALYZE"
    with connection.cursor() as cursor:
        for table in ("marketplace_agent", "marketplace_agentversion", "marketplace_category",
                      "accounts_developerprofile"):  # fmt: skip
            cursor.execute(f'VACUUM ({options}) "{table}"')


def prepare_data(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("makemigrations", check=True, dry_run=True, verbosity=0)
    except SystemExit as exc:
        raise BenchError(
            "the models have changes without a migration (work in progress?): "
            "`manage.py makemigrations --check` fails, so the schema would not match the code"
        ) from exc
    print("· migrate")
    call_command("migrate", interactive=False, verbosity=0)
    problem = schema_mismatch()
    if problem:
        raise BenchError(
            f"the database schema does not match the models ({problem}); migrations were "
            "probably rewritten in place: run again with --recreate-db"
        )
    created = 0
    if not args.skip_seed:
        created = seed(args.agents)
    vacuum_analyze(full=created > 0)
    listed = listed_agent_count()
    if listed < args.agents:
        print(f"! only {listed} listed agents (--skip-seed): results are for that catalog size")
    print("· collectstatic")
    call_command("collectstatic", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    return {"listed_agents": listed, "created_agents": created, "postgresql": pg_version}


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn with the production settings, in its own process group, always stopped."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bench-uvicorn-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "uvicorn", "agentnexus.asgi:application",
            "--workers", str(self.workers), "--host", HOST, "--port", str(self.port),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        print(f"· {' '.join(cmd[2:])}")
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches the workers too
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise BenchError(f"the server exited during start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200 and len(self.worker_pids()) >= self.workers:
                        break
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        else:
            raise BenchError(
                f"the server did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}"
            )
        # One worker answering is not both serving: a worker still importing the app (no .pyc
        # with PYTHONDONTWRITEBYTECODE) would leave its share of the connections waiting. Wait
        # until every worker has gone idle, i.e. finished starting.
        idle_rounds = 0
        while time.monotonic() < deadline and idle_rounds < 2:
            before = {pid: (_proc_stat(pid) or ("", 0, 0.0))[2] for pid in self.worker_pids()}
            time.sleep(0.5)
            after = {pid: (_proc_stat(pid) or ("", 0, 0.0))[2] for pid in before}
            busy = max((after[pid] - before[pid] for pid in before), default=0.0)
            idle_rounds = idle_rounds + 1 if busy < 0.03 else 0

    def connections_per_worker(self) -> list[int]:
        """Established client connections each worker holds (from /proc, no tools needed)."""
        wanted: set[str] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    if local_port == self.port and fields[3] == "01":  # ESTABLISHED
                        wanted.add(fields[9])
        counts = []
        for pid in self.worker_pids():
            held = 0
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:[") and link[8:-1] in wanted:
                            held += 1
            counts.append(held)
        return counts

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        return [pid for pid in descendants(self.proc.pid) if "spawn_main" in cmdline(pid)]

    def pids(self) -> list[int]:
        return [self.proc.pid, *descendants(self.proc.pid)] if self.proc else []

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Workers that outlived the master (they share its process group).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
        with contextlib.suppress(OSError):
            self.log.close()
            os.unlink(self.log.name)


# --------------------------------------------------------------------------------------------
# CPU accounting from /proc (who used the 2 cores during a run)
# --------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float, float] | None:
    """(comm, ppid, own CPU seconds, CPU seconds of its exited children), or None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    children = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return comm, int(fields[1]), own, children


def tree_cpu_seconds(root: int | None) -> float:
    """CPU seconds of a process tree: every live member plus the exited children they reaped.

    Differences of this figure count short-lived members too (PostgreSQL's parallel query
    workers live for one query): a child that exits moves its time into its parent's total."""
    if root is None:
        return 0.0
    total = 0.0
    for pid in [root, *descendants(root)]:
        stat = _proc_stat(pid)
        if stat:
            total += stat[2] + stat[3]
    return total


def listener_pid(port: int) -> int | None:
    """The process listening on a loopback TCP port (the PostgreSQL postmaster, Redis)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    if not inodes:
        return None
    for pid in all_pids():
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return pid
    return None


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        stat = _proc_stat(pid)
        if stat:
            children.setdefault(stat[1], []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def system_cpu_seconds() -> dict[str, float]:
    """Machine-wide CPU seconds since boot: task time (user, nice, system), irq (irq, softirq:
    loopback networking lands here) and steal (taken by the hypervisor)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    values += [0] * (8 - len(values))
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return {
        "tasks": (user + nice + system) / CLK_TCK,
        "irq": (irq + softirq) / CLK_TCK,
        "steal": steal / CLK_TCK,
    }


def machine_busy_cores(seconds: float) -> float:
    """Cores busy with tasks over the next `seconds` (a quiet machine is near 0)."""
    before = system_cpu_seconds()["tasks"]
    time.sleep(seconds)
    return (system_cpu_seconds()["tasks"] - before) / seconds


def wait_until_quiet(max_wait: float, threshold: float) -> float:
    """Wait (up to max_wait s) for two quiet seconds in a row; returns the last busy reading."""
    deadline = time.monotonic() + max_wait
    quiet_in_a_row, busy, warned = 0, 0.0, False
    while True:
        busy = machine_busy_cores(1.0)
        quiet_in_a_row = quiet_in_a_row + 1 if busy < threshold else 0
        if quiet_in_a_row >= 2 or time.monotonic() >= deadline:
            return busy
        if not warned:
            print(
                f"  (machine busy: {busy:.2f} cores in use; waiting up to {max_wait:g} s for quiet)"
            )
            warned = True


class CpuMeter:
    """CPU seconds used during a run by the server, PostgreSQL, Redis and the whole machine."""

    def __init__(self, server: Server, postgres_pid: int | None, redis_pid: int | None) -> None:
        self.server = server
        self.postgres_pid = postgres_pid
        self.redis_pid = redis_pid

    def snapshot(self) -> dict:
        return {
            "t": time.monotonic(),
            "server": tree_cpu_seconds(self.server.proc.pid if self.server.proc else None),
            "postgres": tree_cpu_seconds(self.postgres_pid),
            "redis": tree_cpu_seconds(self.redis_pid),
            "system": system_cpu_seconds(),
            "self": resource.getrusage(resource.RUSAGE_SELF),
            "children": resource.getrusage(resource.RUSAGE_CHILDREN),
        }

    @staticmethod
    def delta(before: dict, after: dict, loadgen: str) -> dict:
        wall = after["t"] - before["t"]

        def moved(key: str) -> float:
            return after[key] - before[key]

        def rusage(key: str) -> float:
            a, b = after[key], before[key]
            return (a.ru_utime + a.ru_stime) - (b.ru_utime + b.ru_stime)

        # wrk is a child we wait for (RUSAGE_CHILDREN); the asyncio generator is this process.
        gen = rusage("children") if loadgen == "wrk" else rusage("self")
        parts = {
            "server": moved("server"),
            "loadgen": gen,
            "postgres": moved("postgres"),
            "redis": moved("redis"),
        }
        system = {k: after["system"][k] - before["system"][k] for k in after["system"]}
        # Everything else that ran on the machine meanwhile (other users of a shared host).
        parts["other"] = max(0.0, system["tasks"] - sum(parts.values()))
        parts["irq"] = system["irq"]
        parts["steal"] = system["steal"]
        cores = {name: round(value / wall, 2) for name, value in parts.items()}
        cores["machine"] = round((system["tasks"] + system["irq"] + system["steal"]) / wall, 2)
        return cores


# --------------------------------------------------------------------------------------------
# Load generators: wrk (preferred) and a raw-asyncio fallback; both return the same dict
# --------------------------------------------------------------------------------------------


def wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout + out.stderr).splitlines()[0].strip() if (out.stdout + out.stderr) else ""


def run_wrk(
    base: str,
    paths: list[str],
    clients: int,
    duration: float,
    threads: int,
    during: Callable[[], object] | None = None,
) -> dict:
    with tempfile.NamedTemporaryFile("w", prefix="bench-paths-", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
        paths_file = fh.name
    cmd = [
        "wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(duration))}s",
        "--timeout", f"{int(REQUEST_TIMEOUT_S)}s", "-s", str(LUA_SCRIPT), base,
        "--", paths_file, str(CLIENT_IP_POOL),
    ]  # fmt: skip
    observed = None
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if during is not None:
                time.sleep(min(duration / 2, 5.0))
                observed = during()
            stdout, stderr = proc.communicate(timeout=duration + 60)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise BenchError("wrk did not finish in time") from exc
    finally:
        os.unlink(paths_file)
    line = next((ln for ln in stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{stdout}\n{stderr}")
    data = json.loads(line[len("WRKJSON ") :])
    lat = data["latency_us"]
    socket_errors = {
        k: data[f"{k}_errors"] if k != "timeouts" else data["timeouts"]
        for k in ("connect", "read", "write", "timeouts")
    }
    return {
        "requests": data["requests"],
        "seconds": data["duration_us"] / 1e6,
        "bytes": data["bytes"],
        "latency_ms": {k: round(v / 1000, 2) for k, v in lat.items()},
        "non200": data["non200"],
        "status_counts": data["status_counts"],
        "socket_errors": socket_errors,
        "observed": observed,
    }


@dataclass
class _Recorder:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(
        default_factory=lambda: {"connect": 0, "read": 0, "write": 0, "timeouts": 0}
    )
    bytes: int = 0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    size = len(head)
    if chunked:
        while True:
            chunk_size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            size += len(await reader.readexactly(chunk_size + 2))
            if chunk_size == 0:
                break
    elif length is not None:
        size += len(await reader.readexactly(length))
    else:
        size += len(await reader.read())
        close = True
    return status, size, close


async def _client(
    index: int,
    port: int,
    paths: list[str],
    deadline: float,
    rec: _Recorder,
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
) -> None:
    reader, writer = conn if conn else (None, None)
    path_i, ip_i = index * 7, index * 7919
    while time.perf_counter() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                rec.socket_errors["connect"] += 1
                await asyncio.sleep(0.05)
                continue
        path = paths[path_i % len(paths)]
        path_i += 1
        ip_i = (ip_i + 1) % CLIENT_IP_POOL
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"X-Forwarded-For: 10.{ip_i >> 16 & 255}.{ip_i >> 8 & 255}.{ip_i & 255}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        try:
            writer.write(request)
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                status, size, close = await _read_response(reader)
        except TimeoutError:
            rec.socket_errors["timeouts"] += 1
            close = True
            status = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            rec.socket_errors["read"] += 1
            close = True
            status = None
        else:
            rec.latencies.append(time.perf_counter() - started)
            rec.statuses[status] = rec.statuses.get(status, 0) + 1
            rec.bytes += size
        if close:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            reader = writer = None
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run_asyncio(
    port: int,
    paths: list[str],
    clients: int,
    duration: float,
    during: Callable[[], object] | None = None,
) -> dict:
    observed: list[object] = []

    async def main() -> tuple[_Recorder, float]:
        rec = _Recorder()
        # Connect one at a time, a few ms apart, before the clock starts: a burst of connects is
        # drained by whichever worker wakes first (see the README); spaced ones spread out.
        conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = []
        for _ in range(clients):
            try:
                conns.append(await asyncio.open_connection(HOST, port))
            except OSError:
                conns.append(None)
            await asyncio.sleep(0.005)
        started = time.perf_counter()
        deadline = started + duration
        if during is not None:
            asyncio.get_running_loop().call_later(
                min(duration / 2, 5.0), lambda: observed.append(during())
            )
        await asyncio.gather(
            *(_client(i, port, paths, deadline, rec, conns[i]) for i in range(clients))
        )
        return rec, time.perf_counter() - started

    try:
        import uvloop

        rec, seconds = uvloop.run(main())
    except ImportError:
        rec, seconds = asyncio.run(main())
    ordered = sorted(rec.latencies)
    lat = {
        "min": ordered[0] if ordered else float("nan"),
        "mean": sum(ordered) / len(ordered) if ordered else float("nan"),
        "max": ordered[-1] if ordered else float("nan"),
        **{f"p{str(p).replace('.', '')}": _percentile(ordered, p) for p in (50, 90, 95, 99, 99.9)},
    }
    non200 = {str(code): n for code, n in rec.statuses.items() if code != 200}
    return {
        "requests": len(ordered),
        "seconds": seconds,
        "bytes": rec.bytes,
        "latency_ms": {k: round(v * 1000, 2) for k, v in lat.items()},
        "non200": sum(non200.values()),
        "status_counts": non200,
        "socket_errors": rec.socket_errors,
        "observed": observed[0] if observed else None,
    }


# --------------------------------------------------------------------------------------------
# Endpoints, preflight, the run
# --------------------------------------------------------------------------------------------


def endpoints() -> list[tuple[str, str, list[str]]]:
    quoted = [urllib.parse.quote_plus(term) for term in SEARCH_TERMS]
    return [
        ("floor", "/healthz", ["/healthz"]),
        ("api_search", "/api/v1/agents/?search=…", [f"/api/v1/agents/?search={q}" for q in quoted]),
        ("marketplace", "/marketplace/", ["/marketplace/"]),
        ("marketplace_search", "/marketplace/?q=…", [f"/marketplace/?q={q}" for q in quoted]),
    ]


def preflight(base: str, selected: list[tuple[str, str, list[str]]]) -> dict[str, int]:
    """One request per distinct path: every one must be a 200 with real content."""
    problems, matches = [], {}
    for key, _, paths in selected:
        for path in paths:
            try:
                with urllib.request.urlopen(f"{base}{path}", timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
                    status, body = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
            except OSError as exc:
                problems.append(f"{path}: {exc}")
                continue
            if status != 200:
                problems.append(f"{path}: HTTP {status} {body[:300]!r}")
            elif key == "api_search":
                count = json.loads(body).get("count", 0)
                matches[urllib.parse.unquote_plus(path.split("=", 1)[1])] = count
                if count == 0:
                    print(f"! {path} matched no agents")
            elif key.startswith("marketplace") and b"agent-card" not in body:
                print(f"! {path} shows no agent cards")
    if problems:
        raise BenchError("preflight requests failed:\n  " + "\n  ".join(problems))
    return matches


def measure(
    args: argparse.Namespace, server: Server, loadgen: str, key: str, paths: list[str]
) -> dict:
    def load(duration: float, during: Callable[[], object] | None = None) -> dict:
        if loadgen == "wrk":
            return run_wrk(server.base, paths, args.clients, duration, args.wrk_threads, during)
        return run_asyncio(server.port, paths, args.clients, duration, during)

    meter = CpuMeter(server, args.postgres_pid, args.redis_pid)
    attempts: list[dict] = []
    for attempt in range(1 + args.retries):
        if args.quiet_wait > 0:
            wait_until_quiet(args.quiet_wait, QUIET_CORES)
        if args.warmup > 0:
            load(args.warmup)
            # Let both workers settle before the measured connections arrive: a worker still
            # busy with the warm-up's closing connections loses the accept race for all of them.
            time.sleep(1.0)
        before = meter.snapshot()
        result = load(args.duration, server.connections_per_worker)
        after = meter.snapshot()
        spread = result.pop("observed") or []
        result["connections_per_worker"] = spread
        result["cpu_cores"] = CpuMeter.delta(before, after, loadgen)
        result["rps"] = (
            round(result["requests"] / result["seconds"], 1) if result["seconds"] else 0.0
        )
        result["errors"] = result["non200"] + sum(result["socket_errors"].values())
        # Keep-alive connections stay with the worker that accepted them; a lopsided split
        # (for example 28/4) measures one worker, not the server.
        result["unbalanced"] = bool(spread) and min(spread) < BALANCE_MIN_SHARE * sum(spread)
        attempts.append(result)
        other = result["cpu_cores"]["other"]
        if other <= DISTURBED_CORES and not result["unbalanced"]:
            break
        if attempt < args.retries:
            why = (
                f"other processes used {other:.2f} cores"
                if other > DISTURBED_CORES
                else f"connections split {'/'.join(map(str, spread))} between the workers"
            )
            print(f"  disturbed: {why} during the run; measuring again")
    # The least disturbed attempt is the result; errors in any attempt still count.
    best = min(attempts, key=lambda r: (r["unbalanced"], r["cpu_cores"]["other"]))
    best["attempts"] = len(attempts)
    best["disturbed"] = best["cpu_cores"]["other"] > DISTURBED_CORES
    best["errors_all_attempts"] = sum(r["errors"] for r in attempts)
    return best


def print_table(results: list[dict]) -> None:
    floor = next((r for r in results if r["key"] == "floor"), None)
    header = (
        f"{'endpoint':<26} {'requests':>9} {'rps':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'p95/floor':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        lat = r["latency_ms"]
        ratio = f"{r['p95_ratio_vs_floor']:.1f}x" if floor and r is not floor else "1.0x"
        print(
            f"{r['endpoint']:<26} {r['requests']:>9} {r['rps']:>8.1f} {lat['p50']:>8.1f} "
            f"{lat['p95']:>8.1f} {lat['p99']:>8.1f} {r['errors']:>7} {ratio:>10}"
        )
    print()
    print(
        f"{'CPU cores used in the run':<26} {'server':>9} {'loadgen':>8} {'postgres':>8} "
        f"{'redis':>8} {'irq':>8} {'other':>7} {'machine':>10}"
    )
    for r in results:
        c = r["cpu_cores"]
        flag = "  (disturbed)" if r["disturbed"] else ""
        flag += "  (unbalanced)" if r["unbalanced"] else ""
        flag += f"  conns {'/'.join(map(str, r['connections_per_worker']))}"
        print(
            f"{r['endpoint']:<26} {c['server']:>9.2f} {c['loadgen']:>8.2f} {c['postgres']:>8.2f} "
            f"{c['redis']:>8.2f} {c['irq']:>8.2f} {c['other']:>7.2f} {c['machine']:>10.2f}{flag}"
        )
    for r in results:
        if r["errors_all_attempts"]:
            print(f"! {r['endpoint']}: non-200 {r['status_counts']} socket {r['socket_errors']}")


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    tmp.replace(path)


def machine_info() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }


# --------------------------------------------------------------------------------------------
# --explain: what the catalog views ask PostgreSQL, with timings and plans
# --------------------------------------------------------------------------------------------


def explain(term_sample: list[str]) -> None:
    """The queries behind the catalog page and the API search, uncached (CATALOG_CACHE_SECONDS=0),
    each with its time and EXPLAIN (ANALYZE, BUFFERS) plan."""
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from marketplace import selectors
    from marketplace.selectors import CatalogQuery

    cases = [("/marketplace/ (plain)", "", 12)] + [(f"search {t!r}", t, 20) for t in term_sample]
    with override_settings(CATALOG_CACHE_SECONDS=0):
        for label, text, size in cases:
            with CaptureQueriesContext(connection) as ctx:
                if size == 12:
                    selectors.category_list_with_counts()
                query = CatalogQuery(text=text)
                page = Paginator(selectors.agent_search(query=query), size).get_page(1)
                list(page.object_list)
            print(
                f"\n=== {label}: {page.paginator.count} matches, {len(ctx.captured_queries)} queries"
            )
            for captured in ctx.captured_queries:
                sql = captured["sql"]
                print(f"\n-- {captured['time']} s (first run): {sql[:160]}…")
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    for (row,) in cursor.fetchall():
                        print(f"   {row}")


# --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    db_url, redis_url = service_urls()
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "asyncio"
    elif loadgen == "wrk" and not shutil.which("wrk"):
        raise BenchError(
            "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk); or --loadgen asyncio"
        )
    if loadgen == "wrk" and not LUA_SCRIPT.exists():
        raise BenchError(f"missing {LUA_SCRIPT}")

    ensure_database(db_url, recreate=args.recreate_db)
    env = server_env(db_url, redis_url)
    django_setup(env)
    data = prepare_data(args)
    if args.explain:
        explain(["summarizer", "whale", "report", "gas fee"])
        close_db_connections()
        return 0
    close_db_connections()

    import django
    import rest_framework
    import uvicorn

    selected = [e for e in endpoints() if e[0] == "floor" or not args.only or e[0] in args.only]
    meta = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "software": {
            "django": django.get_version(),
            "djangorestframework": rest_framework.VERSION,
            "uvicorn": uvicorn.__version__,
            "postgresql": data["postgresql"],
            "loadgen": loadgen,
            "wrk": wrk_version() if loadgen == "wrk" else None,
        },
        "settings": {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "server": f"uvicorn agentnexus.asgi:application --workers {args.workers} --no-access-log --log-level warning",
            "clients": args.clients,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "client_ip_pool": CLIENT_IP_POOL,
            "search_terms": SEARCH_TERMS,
        },
        "data": data,
        "targets": {"spec_p95_ms": SPEC_P95_MS, "aim_p95_ms": AIM_P95_MS},
    }
    # Whose CPU is whose: the PostgreSQL and Redis serving this run (not other instances on the
    # machine), found by their listening ports; they must be local for the split to be shown.
    db_port = urllib.parse.urlsplit(db_url).port or 5432
    redis_parts = urllib.parse.urlsplit(redis_url)
    args.postgres_pid = listener_pid(db_port)
    args.redis_pid = (
        listener_pid(redis_parts.port or 6379) if redis_parts.scheme != "unix" else None
    )
    if args.postgres_pid is None or args.redis_pid is None:
        print("! PostgreSQL or Redis process not found from its port: its CPU shows up as 'other'")
    server = Server(env, args.workers)
    results: list[dict] = []
    try:
        server.start()
        server.wait_ready()
        workers = server.worker_pids()
        print(f"· server up on {server.base}; worker pids {' '.join(map(str, workers))}")
        try:
            matches = preflight(server.base, selected)
        except BenchError as exc:
            raise BenchError(
                f"{exc}\n--- server log (last lines) ---\n{server.log_tail(60)}"
            ) from exc
        if matches:
            print("· API matches per term: " + ", ".join(f"{t} {n}" for t, n in matches.items()))
        meta["search_matches"] = matches
        for key, label, paths in selected:
            print(
                f"· {label}: {args.warmup:g} s warm-up, {args.duration:g} s with {args.clients} clients ({loadgen})"
            )
            result = measure(args, server, loadgen, key, paths)
            results.append({"key": key, "endpoint": label, "paths": len(paths), **result})
        if args.keep_server:
            print(
                f"· keeping the server up {args.keep_server:g} s (worker pids {' '.join(map(str, workers))})"
            )
            time.sleep(args.keep_server)
    finally:
        server.stop()

    floor_p95 = next(r["latency_ms"]["p95"] for r in results if r["key"] == "floor")
    floor_rps = next(r["rps"] for r in results if r["key"] == "floor")
    for r in results:
        r["p95_ratio_vs_floor"] = (
            round(r["latency_ms"]["p95"] / floor_p95, 2) if floor_p95 else None
        )
        r["rps_ratio_vs_floor"] = round(r["rps"] / floor_rps, 3) if floor_rps else None
        r["meets_spec_p95"] = r["latency_ms"]["p95"] < SPEC_P95_MS
        r["meets_aim_p95"] = r["latency_ms"]["p95"] < AIM_P95_MS
    meta["machine"]["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print_table(results)
    write_json(args.output, {**meta, "results": results})
    print(
        f"\n· results written to {args.output.relative_to(REPO) if args.output.is_relative_to(REPO) else args.output}"
    )
    for r in results:
        if r["key"] != "floor":
            verdict = "meets" if r["meets_aim_p95"] else "misses"
            print(
                f"  {r['endpoint']}: p95 {r['latency_ms']['p95']:.1f} ms {verdict} the {AIM_P95_MS:g} ms aim; "
                f"spec ({SPEC_P95_MS:g} ms) {'met' if r['meets_spec_p95'] else 'MISSED'}"
            )
    errors = sum(r["errors_all_attempts"] for r in results)
    if errors:
        print(f"\n! {errors} failed requests: see above", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def on_term(signum, frame):  # run the `finally` blocks (stop the server) on SIGTERM too
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        return run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

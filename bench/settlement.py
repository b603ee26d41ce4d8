#!/usr/bin/env python
"""Settlement latency and gas: a run's terminal state -> its settlement confirmed, on anvil with
1-second blocks.

    DATABASE_URL=postgres://dev:dev@127.0.0.1:5432/agentnexus_settlebench \
    REDIS_URL=redis://127.0.0.1:6379/13 \
    .venv/bin/python bench/settlement.py [--runs 50] [--batch-rounds 10] [--output PATH]

Setup: drops and re-creates the database (its name must contain "bench"), starts anvil on a free
loopback port with `--block-time 1`, configures Django (agentnexus.settings.test: Celery eager,
CHAIN_RPC_URL/CHAIN_ID pointed at that anvil, CHAIN_CONFIRMATIONS=1, CHAIN_INDEXER_LAG=0, the
orchestrator and deployer keys set explicitly as in production), migrates, deploys the marketplace
with `payments.services.chain_deploy` (30% fee) listing one agent priced 0.25 USDC, and buys runs
on chain from a buyer wallet (recorded as a completed Purchase, as the indexer would).

Runs are not executed: each Run row is created with `settlement_reserve` in its transaction (as
`run_start` does), moved queued -> starting -> running, and then ended with
`runtime.services.run_transition` (succeeded -> release, failed -> refund), which hands over to
`payments.settlement` on commit: settlement_request -> settle_due (eager) -> settlements_send ->
signed, recorded submitted, broadcast, receipt -> chain_index -> confirmed from the event.

Measured per run: from the commit of its terminal transition to the commit of the transaction that
marks its Settlement confirmed. Each run (or round) ends after a random delay of 0..1 block (0..3 s
in the lag scenario), so run ends fall anywhere between blocks and beat ticks rather than locked to
the clock of the previous confirmation. The warm-up (1 release, 1 refund) is not measured.

    single    one run at a time, alternating success / failure (release / refund)
    batched   N runs end back to back (each its own transaction); the settle_due tasks they queue
              are held until the last one has committed, then run in order, as a worker busy with
              the previous block would: the first sends one releaseBatch/refundBatch of N, the
              others find nothing due. Rounds alternate all-succeeded / all-failed. Latency is
              reported from each run's own end and from the round's last end
    mixed     the same with half succeeded, half failed: one releaseBatch and one refundBatch
    lag       single runs with the production defaults CHAIN_INDEXER_LAG=2, CHAIN_CONFIRMATIONS=1
              and the index-chain beat every 3 s (a thread calls chain_index on that schedule):
              confirmation then comes from the beat indexer, not from the index right after the
              receipt. --lag-confirmations 3 shows the sender waiting for lag + 1 blocks instead

Run-reference words are pre-warmed with `payments.settlement.run_refs_prepare` before measuring (as
the prepare-run-refs beat task does in production), and run ids start at --first-run-id (1000) so
the single runs cross a bitmap word boundary (run 1020) in a prepared word. Gas comes from each
settlement transaction's receipt. A phase breakdown of each run comes from timing-only wrappers
around the settlement path (no behaviour change) and a thread that polls eth_blockNumber every 5 ms;
a few fixed steps (ChainClient, Marketplace and EscrowReader construction, is_run_settled) are also
timed alone afterwards. Checks: every settlement confirmed, sent once, no PaymentAlert, and the
buyer / developer / fee recipient / escrow balances moved by exactly the settled amounts.

It prints the latency table, the phases and the gas per settled run, and writes
bench/results/settlement.json. Exit status 1 when a check failed, 2 on a setup problem (including
a settlement not confirmed within 60 s). anvil, the threads, the database (--keep-db keeps it) and
the Redis keys the run created are always cleaned up. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import importlib.metadata
import itertools
import json
import logging
import os
import platform
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from payments.chain.anvil import Anvil, dev_private_keys, find_anvil  # noqa: E402

DEFAULT_OUTPUT = REPO / "bench" / "results" / "settlement.json"
SETTINGS = "agentnexus.settings.test"
CHAIN_ID = 31337
PRICE = Decimal("0.25")  # USDC per run
UNITS = 250_000  # the same in the token's 6-decimal units
FEE_BPS = 3000
AGENT_SLUG = "bench-settle"
USER_EMAIL = "bench-settle@bench.agentnexus.local"
# anvil's public development accounts, in the roles payments.chain.keys gives them on a dev chain.
ROLE_INDEX = {"deployer": 0, "developer": 3, "buyer": 5, "orchestrator": 8, "fee_recipient": 9}
CONFIRM_TIMEOUT_S = 60.0
BLOCK_POLL_S = 0.005
RELEASE, REFUND = "release", "refund"

SCENARIOS = {
    "single": "single (one run at a time)",
    "batched": "batched ({n} runs end together)",
    "mixed": "mixed batch ({half}+{half}: release + refund)",
    "lag": "single, lag {lag}, confirmations {conf}, beat {beat:g} s",
}
# Consecutive phases of one run (they add up to its latency): key, label.
PHASES = [
    ("handoff", "terminal commit -> settle_due starts"),
    ("prepare", "-> send begins (claim, client, is_run_settled)"),
    ("sign", "-> signed (lock, nonce, fees, estimateGas, sign)"),
    ("record", "-> recorded submitted (one transition per run)"),
    ("broadcast", "-> broadcast (eth_sendRawTransaction)"),
    ("block", "-> its block mined (seen by the 5 ms poller)"),
    ("receipt", "-> receipt read by the sender"),
    ("index", "-> confirmed committed (chain_index)"),
]


class BenchError(Exception):
    """A problem the user must fix; printed without a traceback."""


# --------------------------------------------------------------------------------------------
# Arguments, services, database
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Settlement latency (terminal state -> confirmed) and gas on anvil.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=50, help="single runs (alternating kinds)")
    parser.add_argument("--batch-size", type=int, default=10, help="runs ending together")
    parser.add_argument(
        "--batch-rounds", type=int, default=10, help="batched rounds (alternating kinds)"
    )
    parser.add_argument("--mixed-rounds", type=int, default=4, help="rounds of half/half")
    parser.add_argument(
        "--lag-runs", type=int, default=30, help="single runs with the production lag (0: skip)"
    )
    parser.add_argument("--lag", type=int, default=2, help="CHAIN_INDEXER_LAG of the lag runs")
    parser.add_argument(
        "--lag-confirmations",
        type=int,
        default=1,
        help="CHAIN_CONFIRMATIONS of the lag runs (production default 1)",
    )
    parser.add_argument(
        "--beat-interval", type=float, default=3.0, help="index-chain beat of the lag runs (s)"
    )
    parser.add_argument("--block-time", type=float, default=1.0, help="anvil --block-time (s)")
    parser.add_argument("--first-run-id", type=int, default=1000, help="first Run primary key")
    parser.add_argument("--seed", type=int, default=5, help="random delays before run ends")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not 0 <= args.runs <= 500:
        parser.error("--runs must be between 0 and 500")
    if not 1 <= args.lag_confirmations <= 10:
        parser.error("--lag-confirmations must be between 1 and 10")
    if not 2 <= args.batch_size <= 50:  # payments.settlement.MAX_BATCH
        parser.error("--batch-size must be between 2 and 50")
    if not 0 <= args.batch_rounds <= 50 or not 0 <= args.mixed_rounds <= 50:
        parser.error("--batch-rounds and --mixed-rounds must be between 0 and 50")
    if not 0 <= args.lag_runs <= 200 or not 1 <= args.lag <= 10:
        parser.error("--lag-runs must be 0..200 and --lag 1..10")
    if not 0.5 <= args.beat_interval <= 30 or not 0.2 <= args.block_time <= 12:
        parser.error("--beat-interval must be 0.5..30 s and --block-time 0.2..12 s")
    if not 1 <= args.first_run_id <= 10**9:
        parser.error("--first-run-id must be between 1 and 10**9")
    return args


def service_urls() -> tuple[str, str]:
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if urllib.parse.urlsplit(db_url).scheme not in {"postgres", "postgresql", "pgsql"}:
        raise BenchError(
            "DATABASE_URL must point at PostgreSQL (postgres://user:password@127.0.0.1:5432/"
            "agentnexus_settlebench): settlement relies on PostgreSQL row locks (SKIP LOCKED)."
        )
    if urllib.parse.urlsplit(redis_url).scheme not in {"redis", "rediss", "unix"}:
        raise BenchError(
            "REDIS_URL must point at Redis (for example redis://127.0.0.1:6379/13): it holds the "
            "orchestrator's cross-process sender lock."
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


def _dbname(db_url: str) -> str:
    name = urllib.parse.unquote(urllib.parse.urlsplit(db_url).path.lstrip("/"))
    if not name:
        raise BenchError("DATABASE_URL names no database (…/dbname at the end).")
    if "bench" not in name:
        raise BenchError(
            f"the database is dropped and re-created on every run: its name must contain "
            f"'bench' (got {name!r})"
        )
    return name


def database_drop(db_url: str, *, create: bool) -> None:
    """Drop the bench database (and create it afresh when `create`)."""
    import psycopg
    from psycopg import sql

    name = _dbname(db_url)
    try:
        with psycopg.connect(
            _libpq_url(db_url, "postgres"), autocommit=True, connect_timeout=5
        ) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if create:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        hint = ""
        if "permission denied" in str(exc):
            hint = (
                " (the role needs CREATEDB: su postgres -c \"psql -c 'alter role dev createdb'\")"
            )
        raise BenchError(f"cannot re-create database {name}: {exc}".strip() + hint) from exc


def redis_keys(redis_url: str) -> set[bytes]:
    import redis

    try:
        with redis.Redis.from_url(redis_url, socket_timeout=5) as r:
            return set(r.scan_iter(count=1000))
    except redis.RedisError as exc:
        raise BenchError(f"cannot reach Redis at {redis_url}: {exc}") from exc


def redis_forget(redis_url: str, before: set[bytes]) -> int:
    """Delete the keys the run created (the app's cache entries, the channel layer's), no more."""
    import redis

    with redis.Redis.from_url(redis_url, socket_timeout=5) as r:
        new = [key for key in r.scan_iter(count=1000) if key not in before]
        if new:
            r.delete(*new)
    return len(new)


def close_db_connections() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
        if hasattr(conn, "close_pool"):
            conn.close_pool()


# --------------------------------------------------------------------------------------------
# Timeline: timing-only wrappers around the settlement path, and the block poller
# --------------------------------------------------------------------------------------------


class Timeline:
    """Wall-clock timestamps (time.time(), the clock Django's created_at uses too)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.confirmed: dict[int, float] = {}  # settlement id -> commit of its confirmation
        self.settle_calls: list[dict] = []  # settlements_send: start, end, tx hashes
        self.sends: dict[str, dict] = {}  # tx hash -> send_start, signed, recorded
        self.waits: dict[str, dict] = {}  # tx hash -> wait_start, wait_end, block
        self.blocks: dict[int, float] = {}  # block number -> first seen
        self.client_inits: list[float] = []  # ChainClient() durations (s)
        self._undo: list[Callable[[], None]] = []

    # ----------------------------------------------------------------- wrappers

    def install(self) -> None:
        from django.db import transaction

        import payments.indexer as indexer
        import payments.tasks_settlement as tasks
        from payments.chain.client import ChainClient
        from payments.chain.sender import Sender

        tl = self

        def patch(owner, name: str, make: Callable) -> None:
            original = getattr(owner, name)
            setattr(owner, name, make(original))
            self._undo.append(lambda: setattr(owner, name, original))

        def confirm(original):
            def wrapper(*, settlement, log, report):
                done = original(settlement=settlement, log=log, report=report)
                if done:
                    pk = settlement.pk
                    transaction.on_commit(lambda: tl.confirmed.setdefault(pk, time.time()))
                return done

            return wrapper

        def settle(original):
            def wrapper(*args, **kwargs):
                call = {"start": time.time()}
                try:
                    report = original(*args, **kwargs)
                    call["tx_hashes"] = list(report.tx_hashes)
                    return report
                finally:
                    call["end"] = time.time()
                    with tl.lock:
                        tl.settle_calls.append(call)

            return wrapper

        def send(original):
            def wrapper(self, fn, **kwargs):
                record = {"send_start": time.time()}
                on_signed = kwargs.get("on_signed")

                def signed(tx_hash: str) -> None:
                    record["signed"] = time.time()
                    if on_signed is not None:
                        on_signed(tx_hash)
                    record["recorded"] = time.time()
                    with tl.lock:
                        tl.sends[tx_hash] = record

                kwargs["on_signed"] = signed
                return original(self, fn, **kwargs)

            return wrapper

        def wait(original):
            def wrapper(self, tx_hash, **kwargs):
                record = {"wait_start": time.time()}
                sent = original(self, tx_hash, **kwargs)
                record.update(wait_end=time.time(), block=sent.block_number)
                with tl.lock:
                    tl.waits[tx_hash] = record
                return sent

            return wrapper

        def client_init(original):
            def wrapper(self, *args, **kwargs):
                start = time.perf_counter()
                try:
                    return original(self, *args, **kwargs)
                finally:
                    tl.client_inits.append(time.perf_counter() - start)

            return wrapper

        patch(indexer, "settlement_confirm_from_log", confirm)
        patch(tasks, "settlements_send", settle)
        patch(Sender, "send", send)
        patch(Sender, "wait", wait)
        patch(ChainClient, "__init__", client_init)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    # ----------------------------------------------------------------- block poller

    @contextlib.contextmanager
    def block_poller(self, port: int) -> Iterator[None]:
        stop = threading.Event()
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})

        def poll() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                while not stop.is_set():
                    try:
                        conn.request(
                            "POST", "/", body, headers={"Content-Type": "application/json"}
                        )
                        number = int(json.loads(conn.getresponse().read())["result"], 16)
                    except (OSError, http.client.HTTPException, ValueError, KeyError):
                        conn.close()
                        stop.wait(0.05)
                        continue
                    seen = time.time()
                    with self.lock:
                        self.blocks.setdefault(number, seen)
                    stop.wait(BLOCK_POLL_S)
            finally:
                conn.close()

        thread = threading.Thread(target=poll, name="block-poller", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def last_block_before(self, moment: float) -> float | None:
        with self.lock:
            seen = [t for t in self.blocks.values() if t <= moment]
        return max(seen) if seen else None


@contextlib.contextmanager
def index_beat(deployment_id: int, interval: float) -> Iterator[dict]:
    """The index-chain beat task (fixed rate, like celery beat) in a thread."""
    from django.db import connection

    from payments.chain.client import ChainError
    from payments.indexer import chain_index

    stop = threading.Event()
    stats = {"ticks": 0, "errors": 0}

    def beat() -> None:
        start = time.monotonic()
        tick = 0
        try:
            while not stop.is_set():
                try:
                    chain_index(deployment_id=deployment_id)
                    stats["ticks"] += 1
                except ChainError:
                    stats["errors"] += 1
                tick += 1
                stop.wait(max(0.0, start + tick * interval - time.monotonic()))
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name="index-beat", daemon=True)
    thread.start()
    try:
        yield stats
    finally:
        stop.set()
        thread.join(timeout=30)


@contextlib.contextmanager
def held_settle_tasks() -> Iterator[list[float]]:
    """Hold the settle_due tasks that settlement_request queues on commit (their countdowns);
    the caller runs them afterwards, as a worker busy with the previous block would."""
    import payments.settlement as settlement

    held: list[float] = []
    original = settlement._enqueue_send
    settlement._enqueue_send = lambda countdown=0: held.append(countdown)
    try:
        yield held
    finally:
        settlement._enqueue_send = original


# --------------------------------------------------------------------------------------------
# The marketplace: deployment, agent, purchase
# --------------------------------------------------------------------------------------------


class Market:
    def __init__(self, node: Anvil, keys: list[str], block_time: float) -> None:
        from payments.chain.client import ChainClient

        self.node = node
        self.block_time = block_time
        self.keys = keys
        self.client = ChainClient(node.rpc_url, expected_chain_id=CHAIN_ID)
        self.address = {
            role: self.client.account(keys[i]).address for role, i in ROLE_INDEX.items()
        }

    def setup(self, first_run_id: int) -> None:
        from django.core.management import call_command
        from django.db import connection

        from accounts.models import User
        from accounts.services import developer_profile_create
        from marketplace.models import Category
        from marketplace.services import agent_create, agent_version_create
        from payments.chain.marketplace import Marketplace
        from payments.services import chain_deploy
        from runtime.models import Run

        print("· migrate")
        call_command("migrate", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            # Production run ids cross a run-reference bitmap word every 255 runs; start where
            # the measured runs cross one (1020) so that case is in the figures.
            cursor.execute(
                f'ALTER TABLE "{Run._meta.db_table}" ALTER COLUMN "id" '
                f"RESTART WITH {int(first_run_id)}"
            )
            cursor.execute("SHOW server_version")
            self.postgresql = cursor.fetchone()[0]
        self.user = User.objects.create_user(
            email=USER_EMAIL, password=None, display_name="Settlement bench"
        )
        developer = developer_profile_create(
            user=self.user,
            display_name="Settlement bench",
            payout_address=self.address["developer"],
        )
        self.agent = agent_create(
            developer=developer,
            slug=AGENT_SLUG,
            name="Settlement bench agent",
            summary="Runs are never executed: the bench only ends them.",
            description="A paid agent for bench/settlement.py; its runs are ended by the bench.",
            category=Category.objects.get(slug="general"),
        )
        self.version = agent_version_create(
            agent=self.agent,
            version="1.0.0",
            image_ref="agentnexus/catalog-echo:1.0.0",
            input_schema={"type": "object"},
            output_schema={"type": "object"},
            memory_mb=64,
            timeout_seconds=20,
            price=PRICE,
            currency="USDC",
        )
        self.agent.refresh_from_db()
        print(f"· chain_deploy on {self.node.rpc_url} (blocks every {self.block_time:g} s)")
        result = chain_deploy(
            client=self.client,
            deployer_key=self.keys[ROLE_INDEX["deployer"]],
            orchestrator=self.address["orchestrator"],
            fee_recipient=self.address["fee_recipient"],
            fee_bps=FEE_BPS,
            payment_ttl=30 * 24 * 3600,
        )
        if AGENT_SLUG not in result.registered:
            raise BenchError(f"chain_deploy did not register {AGENT_SLUG}: {result}")
        self.deployment = result.deployment
        self.mp = Marketplace(
            self.client,
            entitlements=self.deployment.entitlements_address,
            escrow=self.deployment.escrow_address,
            stablecoin=self.deployment.stablecoin_address,
        )
        self.token = self.deployment.stablecoin_address

    def buy(self, runs: int):
        """Buy `runs` runs on chain from the buyer wallet and record the completed purchase (what
        the indexer does from the PaymentCreated event). The buyer keeps 1 USDC, so a refund
        never turns its balance slot from zero (steady state, as for developer and fee)."""
        from payments.models import Purchase, PurchaseStatus

        key = self.keys[ROLE_INDEX["buyer"]]
        buyer = self.address["buyer"]
        self.client.transact(
            self.mp.stablecoin.functions.mint(buyer, UNITS * runs + 1_000_000),
            key=self.keys[ROLE_INDEX["deployer"]],
        )
        self.mp.approve(self.token, UNITS * runs, key=key)
        bought = self.mp.purchase(self.agent.pk, self.token, runs, key=key)
        return Purchase.objects.create(
            public_id=uuid.uuid4(),
            user=self.user,
            agent=self.agent,
            deployment=self.deployment,
            buyer_address=buyer,
            token_address=self.token,
            currency="USDC",
            runs=runs,
            unit_price=UNITS,
            total=UNITS * runs,
            status=PurchaseStatus.COMPLETED,
            payment_id=bought.payment_id,
            tx_hash=bought.receipt["transactionHash"].to_0x_hex(),
            block_number=bought.receipt["blockNumber"],
            expires_at=dt.datetime.fromtimestamp(bought.expires_at, tz=dt.UTC),
        )

    def balances(self) -> dict[str, int]:
        return {
            role: self.mp.token_balance(self.token, self.address[role])
            for role in ("buyer", "developer", "fee_recipient")
        } | {"escrow": self.mp.token_balance(self.token, self.mp.escrow.address)}

    def gas_used(self, tx_hash: str) -> int:
        return int(self.client.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])


# --------------------------------------------------------------------------------------------
# Runs: created with their reservation, ended through the run state machine
# --------------------------------------------------------------------------------------------


class Runner:
    def __init__(self, market: Market, timeline: Timeline, rng: random.Random) -> None:
        self.market = market
        self.tl = timeline
        self.rng = rng
        self.rows: list[dict] = []

    def running_run(self):
        """A run as run_start creates it (reservation in the same transaction), then started."""
        from django.db import transaction

        from payments.settlement import settlement_reserve
        from runtime.models import Run, RunStatus
        from runtime.services import run_transition

        m = self.market
        with transaction.atomic():
            run = Run.objects.create(user=m.user, agent=m.agent, version=m.version, input={})
            settlement = settlement_reserve(run=run, user=m.user, agent=m.agent)
        for status in (RunStatus.STARTING, RunStatus.RUNNING):
            if run_transition(run_id=run.pk, to=status) is None:
                raise BenchError(f"run {run.pk} could not move to {status}")
        return run, settlement

    def end(self, run, kind: str) -> float:
        """End the run (its settlement follows on commit); returns the commit's time. With Celery
        eager the whole settlement runs inside this call unless its tasks are held."""
        from django.db import transaction

        from runtime.models import FailureReason, RunStatus
        from runtime.services import run_transition

        stamp: dict[str, float] = {}
        with transaction.atomic():
            # Registered first, so it runs first after the commit, before the settlement hand-off.
            transaction.on_commit(lambda: stamp.setdefault("t", time.time()))
            if kind == RELEASE:
                moved = run_transition(run_id=run.pk, to=RunStatus.SUCCEEDED, output={})
            else:
                moved = run_transition(
                    run_id=run.pk,
                    to=RunStatus.FAILED,
                    failure_reason=FailureReason.AGENT_ERROR,
                    error_code="bench",
                    error_message="ended as failed by the settlement bench",
                )
        if moved is None:
            raise BenchError(f"run {run.pk} could not end as {kind}")
        return stamp["t"]

    def wait_confirmed(self, settlement_ids: list[int], timeout: float = CONFIRM_TIMEOUT_S) -> None:
        from payments.models import Settlement

        deadline = time.monotonic() + timeout
        while not all(pk in self.tl.confirmed for pk in settlement_ids):
            if time.monotonic() > deadline:
                stuck = Settlement.objects.filter(pk__in=settlement_ids).exclude(
                    pk__in=list(self.tl.confirmed)
                )
                detail = "; ".join(
                    f"{s.pk}: {s.status} {s.last_error[:200]}".strip() for s in stuck
                )
                raise BenchError(f"settlements not confirmed within {timeout:g} s: {detail}")
            time.sleep(0.005)

    def pause(self, longest: float | None = None) -> None:
        """A random point between blocks (and beat ticks), so run ends are not locked to the
        block clock (or to the indexer's beat, which confirmed the previous run)."""
        time.sleep(self.rng.uniform(0, longest or self.market.block_time))

    def single(
        self, scenario: str, kinds: list[str], *, measured: bool = True, pause: float | None = None
    ) -> None:
        for kind in kinds:
            run, settlement = self.running_run()
            self.pause(pause)
            t_end = self.end(run, kind)
            self.wait_confirmed([settlement.pk])
            if measured:
                self.rows.append(self._row(scenario, run, settlement, kind, t_end, t_end, 1))

    def rounds(self, scenario: str, rounds: list[list[str]]) -> None:
        import payments.settlement as settlement_module

        for index, kinds in enumerate(rounds):
            started = [(*self.running_run(), kind) for kind in kinds]
            self.pause()
            ends = []
            with held_settle_tasks() as held:
                for run, _, kind in started:
                    ends.append(self.end(run, kind))
            for countdown in held:  # the first sends the batch(es); the others find nothing due
                settlement_module._enqueue_send(countdown=countdown)
            self.wait_confirmed([s.pk for _, s, _ in started])
            last = max(ends)
            for (run, settlement, kind), t_end in zip(started, ends, strict=True):
                row = self._row(scenario, run, settlement, kind, t_end, last, len(kinds))
                row["round"] = index
                self.rows.append(row)

    def _row(self, scenario, run, settlement, kind, t_end, t_round_end, round_size) -> dict:
        from payments.models import Settlement, SettlementEvent

        tl = self.tl
        s = Settlement.objects.get(pk=settlement.pk)
        events = {
            e.to_status: e.created_at.timestamp()
            for e in SettlementEvent.objects.filter(settlement_id=s.pk)
        }
        t_confirmed = tl.confirmed[s.pk]
        row = {
            "scenario": scenario,
            "run_id": run.pk,
            "settlement_id": s.pk,
            "kind": kind,
            "tx_hash": s.tx_hash,
            "block": s.block_number,
            "batch": Settlement.objects.filter(tx_hash=s.tx_hash).count(),
            "latency_ms": round((t_confirmed - t_end) * 1000, 1),
            "latency_from_event_ms": round(
                (events.get("confirmed", t_confirmed) - t_end) * 1000, 1
            ),
            "attempts": s.attempts,
        }
        if round_size > 1:
            row["latency_from_round_end_ms"] = round((t_confirmed - t_round_end) * 1000, 1)
        last_block = tl.last_block_before(t_end)
        if last_block is not None:
            row["end_after_block_ms"] = round((t_end - last_block) * 1000, 1)
        send, wait = tl.sends.get(s.tx_hash), tl.waits.get(s.tx_hash)
        call = next((c for c in tl.settle_calls if s.tx_hash in c.get("tx_hashes", [])), None)
        if not (send and wait and call):
            return row
        block_seen = tl.blocks.get(wait["block"], wait["wait_end"])
        block_seen = min(max(block_seen, wait["wait_start"]), wait["wait_end"])
        points = [
            t_end,
            call["start"],
            send["send_start"],
            send["signed"],
            send["recorded"],
            wait["wait_start"],
            block_seen,
            wait["wait_end"],
            t_confirmed,
        ]
        row["phases_ms"] = {
            key: round((b - a) * 1000, 1)
            for (key, _), (a, b) in zip(PHASES, itertools.pairwise(points), strict=True)
        }
        if round_size > 1:
            row["waited_for_round_ms"] = round((t_round_end - t_end) * 1000, 1)
        row["pending_after_end_ms"] = round((events.get("pending", t_end) - t_end) * 1000, 1)
        return row


# --------------------------------------------------------------------------------------------
# Statistics and output
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict:
    if not values:
        return {}
    return {
        "n": len(values),
        "median": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "mean": round(sum(values) / len(values), 1),
    }


def scenario_summary(rows: list[dict]) -> dict:
    out = {
        "latency_ms": summary([r["latency_ms"] for r in rows]),
        "by_kind": {
            kind: summary([r["latency_ms"] for r in rows if r["kind"] == kind])
            for kind in (RELEASE, REFUND)
        },
        "transactions": len({r["tx_hash"] for r in rows}),
        "phases_ms": {
            key: {
                "label": label,
                **summary([r["phases_ms"][key] for r in rows if "phases_ms" in r]),
            }
            for key, label in PHASES
        },
        "end_after_block_ms": summary(
            [r["end_after_block_ms"] for r in rows if "end_after_block_ms" in r]
        ),
    }
    waited = [r["waited_for_round_ms"] for r in rows if "waited_for_round_ms" in r]
    if waited:
        out["waited_for_round_ms"] = summary(waited)
        out["latency_from_round_end_ms"] = summary([r["latency_from_round_end_ms"] for r in rows])
        out["latency_from_round_end_by_kind"] = {
            kind: summary([r["latency_from_round_end_ms"] for r in rows if r["kind"] == kind])
            for kind in (RELEASE, REFUND)
        }
    return out


def gas_table(market: Market, rows: list[dict]) -> tuple[list[dict], dict]:
    """One row per settlement transaction (gasUsed from its receipt), and per-run figures by
    operation: release/refund single, releaseBatch/refundBatch of each size seen."""
    txs: dict[str, dict] = {}
    for r in rows:
        tx = txs.setdefault(
            r["tx_hash"],
            {"tx_hash": r["tx_hash"], "scenario": r["scenario"], "kind": r["kind"], "runs": 0},
        )
        tx["runs"] += 1
        tx.setdefault("run_ids", []).append(r["run_id"])
    table = []
    for tx in txs.values():
        tx["batch"] = next(r["batch"] for r in rows if r["tx_hash"] == tx["tx_hash"])
        if tx["batch"] != tx["runs"]:
            tx["note"] = "shared with runs outside the measured rows"
        tx["gas"] = market.gas_used(tx["tx_hash"])
        tx["gas_per_run"] = round(tx["gas"] / tx["batch"])
        tx["op"] = (
            ("release" if tx["kind"] == RELEASE else "refund")
            if tx["batch"] == 1
            else f"{'releaseBatch' if tx['kind'] == RELEASE else 'refundBatch'}({tx['batch']})"
        )
        table.append(tx)
    ops: dict[str, dict] = {}
    for tx in table:
        op = ops.setdefault(tx["op"], {"kind": tx["kind"], "batch": tx["batch"], "gas": []})
        op["gas"].append(tx["gas"])
    summary_by_op = {}
    for name, op in sorted(ops.items(), key=lambda item: (item[1]["kind"], item[1]["batch"])):
        per_tx = sorted(op["gas"])
        median = percentile(per_tx, 50)
        summary_by_op[name] = {
            "kind": op["kind"],
            "runs_per_tx": op["batch"],
            "transactions": len(per_tx),
            "gas_per_tx_median": round(median),
            "gas_per_tx_min": per_tx[0],
            "gas_per_tx_max": per_tx[-1],
            "gas_per_run": round(median / op["batch"]),
        }
    for op in summary_by_op.values():
        single = summary_by_op.get("release" if op["kind"] == RELEASE else "refund")
        if single and op["runs_per_tx"] > 1:
            op["saving_vs_single"] = round(1 - op["gas_per_run"] / single["gas_per_run"], 3)
    return table, summary_by_op


OVERHEAD_REPEATS = 20
OVERHEADS = {
    "chain_client": "ChainClient() (settlements_send and chain_index each make one)",
    "marketplace": "Marketplace(client) on a new client (its contract objects)",
    "escrow_reader": "EscrowReader(client) on a new client (chain_index)",
    "is_run_settled": "Marketplace.is_run_settled (one eth_call per run in a batch)",
}


def path_overheads(market: Market) -> dict:
    """What some fixed steps of settlements_send / chain_index cost once, measured in isolation
    (after the runs): evidence for the phase figures."""
    from django.conf import settings

    from payments.chain.client import ChainClient
    from payments.chain.events import EscrowReader
    from payments.chain.marketplace import Marketplace, run_ref
    from payments.models import Settlement

    d = market.deployment
    samples: dict[str, list[float]] = {key: [] for key in OVERHEADS}
    confirmed = Settlement.objects.filter(status="confirmed").order_by("id").first()

    def timed(key: str, fn: Callable):
        start = time.perf_counter()
        value = fn()
        samples[key].append((time.perf_counter() - start) * 1000)
        return value

    for _ in range(OVERHEAD_REPEATS):
        timed(
            "chain_client",
            lambda: ChainClient(
                settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID, timeout=5
            ),
        )
        client = ChainClient(settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID)
        mp = timed(
            "marketplace",
            lambda client=client: Marketplace(
                client,
                entitlements=d.entitlements_address,
                escrow=d.escrow_address,
                stablecoin=d.stablecoin_address,
            ),
        )
        other = ChainClient(settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID)
        timed("escrow_reader", lambda other=other: EscrowReader(other, d.escrow_address))
        timed("is_run_settled", lambda mp=mp: mp.is_run_settled(run_ref(confirmed.run_id)))
    return {key: summary(values) for key, values in samples.items()}


def _dumps(obj, level: int = 0) -> str:
    """Indented JSON, but short values on one line and lists of records one record per line."""
    one = json.dumps(obj, default=str)
    if not isinstance(obj, dict | list) or len(one) <= 96:
        return one
    pad, end = "  " * (level + 1), "  " * level
    if isinstance(obj, list):
        records = all(isinstance(item, dict) for item in obj)
        inner = [json.dumps(x, default=str) if records else _dumps(x, level + 1) for x in obj]
        return "[\n" + ",\n".join(pad + item for item in inner) + "\n" + end + "]"
    inner = [f"{pad}{json.dumps(key)}: {_dumps(value, level + 1)}" for key, value in obj.items()]
    return "{\n" + ",\n".join(inner) + "\n" + end + "}"


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(_dumps(payload) + "\n", encoding="utf-8")
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
    }


def loadavg() -> list[float]:
    with contextlib.suppress(OSError):
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    return []


def anvil_version() -> str:
    binary = find_anvil()
    if binary is None:
        return "unknown"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def _stats_line(label: str, stats: dict, txs: int | str = "") -> str:
    return (
        f"{label:<48} {stats['n']:>4} {txs:>4} {stats['median']:>8.1f} {stats['p95']:>8.1f} "
        f"{stats['min']:>8.1f} {stats['max']:>8.1f}"
    )


def print_report(result: dict) -> None:
    print()
    header = (
        f"{'terminal commit -> settlement confirmed':<48} {'N':>4} {'txs':>4} {'median':>8} "
        f"{'p95':>8} {'min':>8} {'max':>8}   (ms)"
    )
    print(header)
    print("-" * len(header))
    for data in result["scenarios"].values():
        print(_stats_line(data["label"], data["latency_ms"], data["transactions"]))
        for kind, stats in data["by_kind"].items():
            if stats:
                print(_stats_line(f"  {kind}", stats))
        if "latency_from_round_end_ms" in data:
            print(_stats_line("  from the round's last run end", data["latency_from_round_end_ms"]))
            for kind, stats in data["latency_from_round_end_by_kind"].items():
                if stats:
                    print(_stats_line(f"    {kind}", stats))
    for name in ("single", "batched", "mixed"):
        data = result["scenarios"].get(name)
        if not data:
            continue
        print(f"\n{data['label'] + ': consecutive phases':<62} {'median':>8} {'p95':>8}")
        for phase in data["phases_ms"].values():
            if "median" in phase:
                print(f"  {phase['label']:<60} {phase['median']:>8.1f} {phase['p95']:>8.1f}")
        if "waited_for_round_ms" in data:
            w = data["waited_for_round_ms"]
            label = "(first phase includes the round's later runs ending)"
            print(f"  {label:<60} {w['median']:>8.1f} {w['p95']:>8.1f}")
    overheads = result.get("path_overheads_ms", {})
    if overheads:
        print(
            f"\n{'settlement path, one call (repeated ' + str(OVERHEAD_REPEATS) + 'x)':<62} {'median':>8} {'p95':>8}"
        )
        for key, stats in overheads.items():
            print(f"  {OVERHEADS[key]:<60} {stats['median']:>8.1f} {stats['p95']:>8.1f}")
    print(f"\n{'gas (receipts)':<22} {'txs':>4} {'gas/tx':>10} {'gas/run':>9} {'vs single':>10}")
    for name, op in result["gas"]["by_operation"].items():
        saving = op.get("saving_vs_single")
        saving_text = f"{-saving * 100:+.1f}%" if saving is not None else ""
        print(
            f"{name:<22} {op['transactions']:>4} {op['gas_per_tx_median']:>10,} "
            f"{op['gas_per_run']:>9,} {saving_text:>10}"
        )
    crossing = result["gas"].get("word_boundary")
    if crossing:
        print(
            f"first settlement in bitmap word {crossing['word']} (run {crossing['run_id']}, "
            f"{crossing['op']}, word pre-warmed): {crossing['gas']:,} gas; single "
            f"{crossing['op']} median {crossing['single_median']:,}"
        )
    checks = result["checks"]
    print(
        f"\nchecks: {'OK' if checks['ok'] else 'FAILED'} ({checks['confirmed']}/"
        f"{checks['settlements']} confirmed, each sent once: {checks['each_sent_once']}, "
        f"{checks['alerts']} payment alerts, balances "
        f"{'match' if checks['balances_match'] else 'DIFFER'})"
    )
    load = result["loadavg"]
    if load.get("before") and load.get("after"):
        peak = max(load["before"][0], load["after"][0])
        busy = " (busy machine)" if peak > result["machine"]["cpus"] else ""
        print(f"load average before/after {load['before'][0]:.2f} / {load['after'][0]:.2f}{busy}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    db_url, redis_url = service_urls()
    keys = dev_private_keys(10)
    rng = random.Random(args.seed)
    total = 2 + args.runs + args.batch_size * args.batch_rounds + args.lag_runs
    total += 2 * (args.batch_size // 2) * args.mixed_rounds
    if total > 1000:
        raise BenchError(f"{total} runs: at most 1,000 (one pre-warm window of run references)")
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    load_before = loadavg()
    keys_before = redis_keys(redis_url)
    print(f"· re-creating database {_dbname(db_url)}")
    database_drop(db_url, create=True)
    node = None
    django_ready = False
    timeline = Timeline()
    try:
        node = Anvil.start(chain_id=CHAIN_ID, block_time=args.block_time)
        from payments.chain.client import ChainClient

        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": SETTINGS,
                "DATABASE_URL": db_url,
                "REDIS_URL": redis_url,
                "CELERY_TASK_ALWAYS_EAGER": "1",
                "CHAIN_RPC_URL": node.rpc_url,
                "CHAIN_ID": str(CHAIN_ID),
                "CHAIN_CONFIRMATIONS": "1",
                "CHAIN_INDEXER_LAG": "0",
                # Production sets the keys; without them a dev chain derives anvil's accounts
                # from the mnemonic on every use (see dev_key_derivation_ms in the results).
                "CHAIN_DEPLOYER_KEY": keys[ROLE_INDEX["deployer"]],
                "CHAIN_ORCHESTRATOR_KEY": keys[ROLE_INDEX["orchestrator"]],
                "CHAIN_FEE_RECIPIENT": ChainClient.account(
                    keys[ROLE_INDEX["fee_recipient"]]
                ).address,
            }
        )
        import django

        django.setup()
        django_ready = True
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per eager task
        from django.conf import settings

        market = Market(node, keys, args.block_time)
        market.setup(args.first_run_id)
        result = measure(args, market, timeline, rng, total)
        result.update(
            {
                "started_at": started_at,
                "machine": machine_info(),
                "loadavg": {"before": load_before, "after": loadavg()},
                "versions": {
                    "anvil": anvil_version(),
                    "postgresql": market.postgresql,
                    "django": django.get_version(),
                    **{name: importlib.metadata.version(name) for name in ("web3", "celery")},
                },
                "settings": {
                    "django_settings": SETTINGS,
                    "celery_eager": settings.CELERY_TASK_ALWAYS_EAGER,
                    "block_time_s": args.block_time,
                    "chain_confirmations": settings.CHAIN_CONFIRMATIONS,
                    "chain_indexer_lag": 0,
                    "lag_scenario": {
                        "lag": args.lag,
                        "confirmations": args.lag_confirmations,
                        "beat_interval_s": args.beat_interval,
                    },
                    "price_usdc": str(PRICE),
                    "fee_bps": FEE_BPS,
                    "runs": args.runs,
                    "batch_size": args.batch_size,
                    "batch_rounds": args.batch_rounds,
                    "mixed_rounds": args.mixed_rounds,
                    "lag_runs": args.lag_runs,
                    "first_run_id": args.first_run_id,
                    "seed": args.seed,
                },
            }
        )
    finally:
        timeline.uninstall()
        if django_ready:
            close_db_connections()
        if node is not None:
            node.stop()
        if not args.keep_db:
            with contextlib.suppress(BenchError):
                database_drop(db_url, create=False)
        with contextlib.suppress(Exception):
            redis_forget(redis_url, keys_before)
    write_json(args.output, result)
    print_report(result)
    print(f"\nwrote {args.output}")
    return 0 if result["checks"]["ok"] else 1


def measure(args, market: Market, timeline: Timeline, rng: random.Random, total: int) -> dict:
    from django.conf import settings

    from payments.models import PaymentAlert, Settlement, SettlementStatus
    from payments.settlement import run_refs_prepare

    derive_start = time.perf_counter()
    dev_private_keys(ROLE_INDEX["orchestrator"] + 1)
    dev_key_ms = (time.perf_counter() - derive_start) * 1000

    print(f"· buying {total + 10} runs at {PRICE} USDC")
    market.buy(total + 10)
    timeline.install()
    runner = Runner(market, timeline, rng)
    half = args.batch_size // 2
    labels = {
        "single": SCENARIOS["single"],
        "batched": SCENARIOS["batched"].format(n=args.batch_size),
        "mixed": SCENARIOS["mixed"].format(half=half),
        "lag": SCENARIOS["lag"].format(
            lag=args.lag, conf=args.lag_confirmations, beat=args.beat_interval
        ),
    }
    with timeline.block_poller(market.node.port):
        # Warm-up (not measured): the developer and fee recipient get their first tokens, the
        # indexer catches up with the deployment's blocks, the code paths are loaded.
        print("· warm-up: 1 release, 1 refund")
        runner.single("warmup", [RELEASE, REFUND], measured=False)
        prepared_txs = run_refs_prepare()
        from runtime.models import Run

        next_id = (Run.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        words = range(next_id // 255, (next_id + total) // 255 + 1)
        unprepared = [w for w in words if not market.mp.is_run_ref_word_prepared(w)]
        if unprepared:
            raise BenchError(f"run-reference words {unprepared} are not prepared")
        before = market.balances()
        if args.runs:
            print(f"· single: {args.runs} runs")
            runner.single("single", [RELEASE if i % 2 == 0 else REFUND for i in range(args.runs)])
        if args.batch_rounds:
            print(f"· batched: {args.batch_rounds} rounds of {args.batch_size}")
            runner.rounds(
                "batched",
                [
                    [RELEASE if r % 2 == 0 else REFUND] * args.batch_size
                    for r in range(args.batch_rounds)
                ],
            )
        if args.mixed_rounds and half:
            print(f"· mixed: {args.mixed_rounds} rounds of {half} + {half}")
            mixed = []
            for _ in range(args.mixed_rounds):
                kinds_round = [RELEASE] * half + [REFUND] * half
                rng.shuffle(kinds_round)
                mixed.append(kinds_round)
            runner.rounds("mixed", mixed)
        beat_stats = None
        if args.lag_runs:
            print(
                f"· lag: {args.lag_runs} runs, CHAIN_INDEXER_LAG={args.lag}, "
                f"CHAIN_CONFIRMATIONS={args.lag_confirmations}, beat {args.beat_interval:g} s"
            )
            settings.CHAIN_INDEXER_LAG = args.lag
            settings.CHAIN_CONFIRMATIONS = args.lag_confirmations
            try:
                with index_beat(market.deployment.pk, args.beat_interval) as beat_stats:
                    runner.single(
                        "lag",
                        [RELEASE if i % 2 == 0 else REFUND for i in range(args.lag_runs)],
                        pause=max(args.beat_interval, args.block_time),
                    )
            finally:
                settings.CHAIN_INDEXER_LAG = 0
                settings.CHAIN_CONFIRMATIONS = 1
        after = market.balances()
    rows = runner.rows
    scenarios = {}
    for name in ("single", "batched", "mixed", "lag"):
        subset = [r for r in rows if r["scenario"] == name]
        if subset:
            scenarios[name] = {"label": labels[name], **scenario_summary(subset)}
    tx_rows, by_op = gas_table(market, rows)
    gas = {"transactions": tx_rows, "by_operation": by_op}
    boundary = next((r for r in rows if r["scenario"] == "single" and r["run_id"] % 255 == 0), None)
    if boundary:
        single_op = "release" if boundary["kind"] == RELEASE else "refund"
        gas["word_boundary"] = {
            "run_id": boundary["run_id"],
            "word": boundary["run_id"] // 255,
            "kind": boundary["kind"],
            "op": single_op,
            "gas": market.gas_used(boundary["tx_hash"]),
            "single_median": by_op[single_op]["gas_per_tx_median"],
        }
    released = sum(1 for r in rows if r["kind"] == RELEASE)
    refunded = sum(1 for r in rows if r["kind"] == REFUND)
    fee = UNITS * FEE_BPS // 10_000
    expected = {
        "developer": released * (UNITS - fee),
        "fee_recipient": released * fee,
        "buyer": refunded * UNITS,
        "escrow": -(released + refunded) * UNITS,
    }
    delta = {role: after[role] - before[role] for role in expected}
    ids = [r["settlement_id"] for r in rows]
    confirmed = Settlement.objects.filter(pk__in=ids, status=SettlementStatus.CONFIRMED).count()
    alerts = PaymentAlert.objects.count()
    once = all(r["attempts"] == 1 for r in rows)
    checks = {
        "settlements": len(ids),
        "confirmed": confirmed,
        "alerts": alerts,
        "each_sent_once": once,
        "balances_expected": expected,
        "balances_delta": delta,
        "balances_match": delta == expected,
    }
    checks["ok"] = confirmed == len(ids) and alerts == 0 and once and checks["balances_match"]
    inits = timeline.client_inits
    overheads = path_overheads(market)
    return {
        "scenarios": scenarios,
        "gas": gas,
        "checks": checks,
        "prewarm": {
            "run_refs_prepare_txs": prepared_txs,
            "words_checked": [words.start, words.stop - 1],
            "note": "run-reference words pre-warmed before measuring (payments.settlement."
            "run_refs_prepare, as the prepare-run-refs beat task does), so no measured "
            "settlement pays for a new bitmap slot",
        },
        "lag_beat": beat_stats,
        "chain_client_init_ms": summary([t * 1000 for t in inits]),
        "path_overheads_ms": overheads,
        "dev_key_derivation_ms": round(dev_key_ms, 1),
        "runs": rows,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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

#!/usr/bin/env python
"""Gas used by the escrow's operations, measured on a real anvil node.

    .venv/bin/python bench/gas.py

    .venv/bin/python bench/gas.py [--output bench/results/gas.json]

Starts its own anvil (from contracts/node_modules, see payments/chain/anvil.py), deploys the
marketplace with a 30% fee, and measures each operation once the developer and the fee recipient
already hold the token and the escrow already holds some of it (steady state). It prints one JSON
line per operation:

    {"op": "release", "token": "mUSDC", "gas": 83012, "floor": 100000, "ok": true, ...}

writes every row to bench/results/gas.json, and exits 1 if any operation exceeds its floor:

    release / refund / releaseFrom / refundFrom (single run)   <= 100,000
    first purchase of 1 run by a new buyer                     <= 150,000 (ETH), 180,000 (ERC-20)
    batch release of 10 runs                                   <= 35,000 per run

Run references are sequential integers, as the platform issues them, so settled references share
bitmap words of 255 (docs/decisions/0009-run-ref-bitmap-prewarm.md). The single-settlement floor is
checked in a word already in use and for the first settlement in a word prepared ahead with
`prepareRunRefs` ("*_prepared_word"), which is how the platform runs. The "*_fresh_word" rows are
the first settlement in a word nobody prepared (+17,100 gas for the new storage slot, once per 255
runs): what it costs when the platform forgets to pre-warm; reported with the amortised cost per
run, but without a floor. The "prepare_*" rows are what pre-warming costs, per call and per word.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from payments.chain.anvil import Anvil, dev_private_keys, find_anvil  # noqa: E402
from payments.chain.artifacts import ESCROW, load_artifact  # noqa: E402
from payments.chain.client import NATIVE_TOKEN, ChainClient, deploy_marketplace  # noqa: E402
from payments.chain.marketplace import (  # noqa: E402
    RUN_REFS_PER_WORD,
    Marketplace,
    run_ref,
    run_ref_word,
)

AGENT = 1
ETH_PRICE = 10**15  # 0.001 ETH per run
USDC_PRICE = 2_500_000  # 2.50 mUSDC per run
FLOOR_SINGLE = 100_000
FLOOR_PURCHASE = {"ETH": 150_000, "mUSDC": 180_000}
FLOOR_BATCH_PER_RUN = 35_000
PREPARE_BATCH_WORDS = 16
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "gas.json"


class Bench:
    def __init__(self, client: ChainClient, mp: Marketplace, keys: list[str]) -> None:
        self.client = client
        self.mp = mp
        self.admin, self.orchestrator = keys[0], keys[1]
        self.usdc = mp.stablecoin.address
        self.rows: list[dict] = []
        self._next_ref = 1

    def refs(self, n: int) -> list[bytes]:
        out = [run_ref(self._next_ref + i) for i in range(n)]
        self._next_ref += n
        return out

    def fresh_word_ref(self) -> bytes:
        """The first reference of a bitmap word nothing has touched yet (two words ahead, so the
        word after it is still free for `prepared_word_ref`)."""
        self._next_ref = (run_ref_word(self._next_ref) + 2) * RUN_REFS_PER_WORD
        return self.refs(1)[0]

    def prepared_word_ref(self) -> bytes:
        """The first reference of a fresh bitmap word, after preparing that word."""
        self._next_ref = (run_ref_word(self._next_ref) + 2) * RUN_REFS_PER_WORD
        self.mp.prepare_run_refs(run_ref_word(self._next_ref), 1, key=self.admin)
        return self.refs(1)[0]

    def new_buyer(self, token: str) -> str:
        key = ChainClient.create_key()
        address = ChainClient.account(key).address
        self.client.send_value(address, 10**18, key=self.admin)
        if token != NATIVE_TOKEN:
            self.client.transact(self.mp.stablecoin.functions.mint(address, 10**12), key=self.admin)
            self.mp.approve(token, 2**256 - 1, key=key)
        return key

    def record(self, op: str, token: str, gas: int, floor: int | None = None, **extra) -> None:
        row = {"op": op, "token": token, "gas": int(gas)}
        row.update(extra)
        if floor is not None:
            row["floor"] = floor
            measured = row.get("per_run", row["gas"])
            row["ok"] = measured <= floor
        self.rows.append(row)
        print(json.dumps(row), flush=True)

    def run(self) -> None:
        for token, name in ((NATIVE_TOKEN, "ETH"), (self.usdc, "mUSDC")):
            self.run_token(token, name)
        self.run_prepare()

    def run_prepare(self) -> None:
        """What pre-warming costs (any key may send it; the admin does here)."""
        word = run_ref_word(self._next_ref) + 10
        one = int(self.mp.prepare_run_refs(word, 1, key=self.admin)["gasUsed"])
        self.record("prepare_run_refs_1_word", "-", one, per_word=one)
        n = PREPARE_BATCH_WORDS
        gas = int(self.mp.prepare_run_refs(word + 1, n, key=self.admin)["gasUsed"])
        self.record(
            f"prepare_run_refs_{n}_words",
            "-",
            gas,
            per_word=gas // n,
            per_run=round(gas / n / RUN_REFS_PER_WORD),
        )
        # The cost of one more word in a call, without the transaction's fixed part.
        marginal = round((gas - one) / (n - 1))
        self.record("prepare_run_refs_extra_word", "-", marginal, per_word=marginal)
        gas = int(self.mp.prepare_run_refs(word + 1, n, key=self.admin)["gasUsed"])
        self.record(f"prepare_run_refs_{n}_words_again", "-", gas, per_word=gas // n)

    def run_token(self, token: str, name: str) -> None:
        mp, orch = self.mp, self.orchestrator
        # Steady state: the escrow already holds this token and the bitmap word is in use.
        warm = self.new_buyer(token)
        warm_payment = mp.purchase(AGENT, token, 2, key=warm).payment_id
        mp.release(warm_payment, self.refs(1)[0], key=orch)

        buyer = self.new_buyer(token)
        first = mp.purchase(AGENT, token, 1, key=buyer)
        self.record("purchase_1_run_new_buyer", name, first.gas_used, FLOOR_PURCHASE[name])
        again = mp.purchase(AGENT, token, 1, key=buyer)
        self.record("purchase_1_run_repeat_buyer", name, again.gas_used)
        buyer10 = self.new_buyer(token)
        ten = mp.purchase(AGENT, token, 10, key=buyer10)
        self.record("purchase_10_runs_new_buyer", name, ten.gas_used)
        ten_again = mp.purchase(AGENT, token, 10, key=buyer10)
        self.record("purchase_10_runs_repeat_buyer", name, ten_again.gas_used)

        # Single settlements on a 20-run payment (the buyer keeps units: no storage refund), in a
        # word in use, then as the first in a prepared word and the first in an unprepared one.
        pid = mp.purchase(AGENT, token, 20, key=buyer10).payment_id
        holder = ChainClient.account(buyer10).address
        escrow = mp.escrow.functions
        settle = {
            "release": lambda ref: mp.release(pid, ref, key=orch),
            "refund": lambda ref: mp.refund(pid, ref, key=orch),
            "release_from": lambda ref: self.client.transact(
                escrow.releaseFrom(pid, ref, holder), key=orch
            ),
            "refund_from": lambda ref: self.client.transact(
                escrow.refundFrom(pid, ref, holder), key=orch
            ),
        }
        steady: dict[str, int] = {}
        for op, send in settle.items():
            steady[op] = int(send(self.refs(1)[0])["gasUsed"])
            self.record(op, name, steady[op], FLOOR_SINGLE)
        for op, send in settle.items():
            gas = int(send(self.prepared_word_ref())["gasUsed"])
            self.record(f"{op}_prepared_word", name, gas, FLOOR_SINGLE)
        for op, send in settle.items():
            gas = int(send(self.fresh_word_ref())["gasUsed"])
            amortised = steady[op] + (gas - steady[op]) // RUN_REFS_PER_WORD
            self.record(f"{op}_fresh_word", name, gas, amortised_per_run=amortised)

        # Batches of 10 runs of one payment.
        pid = ten_again.payment_id
        receipt = mp.release_batch([(pid, ref) for ref in self.refs(10)], key=orch)
        gas = receipt["gasUsed"]
        self.record("release_batch_10", name, gas, FLOOR_BATCH_PER_RUN, per_run=gas // 10)
        more = mp.purchase(AGENT, token, 10, key=buyer10).payment_id
        receipt = mp.refund_batch([(more, ref) for ref in self.refs(10)], key=orch)
        gas = receipt["gasUsed"]
        self.record("refund_batch_10", name, gas, per_run=gas // 10)

        # Reclaim of 10 unsettled runs after expiry (anyone may send it; the buyer does here).
        late = mp.purchase(AGENT, token, 10, key=buyer10).payment_id
        self.client.increase_time(31 * 24 * 3600)
        gas = mp.reclaim(late, key=buyer10)["gasUsed"]
        self.record("reclaim_10_runs", name, gas)


def anvil_version() -> str:
    binary = find_anvil()
    if binary is None:
        return "unknown"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    keys = dev_private_keys(5)
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    with Anvil.start(chain_id=31337) as node:
        client = ChainClient(node.rpc_url, expected_chain_id=31337)
        admin, orch, fee_recipient, developer = (client.account(k) for k in keys[:4])
        deployment = deploy_marketplace(
            client,
            deployer_key=keys[0],
            orchestrator=orch.address,
            fee_recipient=fee_recipient.address,
            fee_bps=3000,
        )
        mp = Marketplace.from_deployment(client, deployment)
        usdc = deployment.stablecoin
        mp.register_agent(
            AGENT,
            developer.address,
            prices={NATIVE_TOKEN: ETH_PRICE, usdc: USDC_PRICE},
            key=keys[0],
        )
        # The developer and the fee recipient already hold the token (as they do after the first
        # release): their balance slots are non-zero.
        for holder in (developer.address, fee_recipient.address):
            client.transact(mp.stablecoin.functions.mint(holder, 1_000_000), key=keys[0])
        bench = Bench(client, mp, keys)
        bench.run()
    failed = [row for row in bench.rows if row.get("ok") is False]
    results = {
        "started_at": started_at,
        "anvil": anvil_version(),
        "solc": load_artifact(ESCROW).compiler_version,
        "settings": {
            "fee_bps": 3000,
            "eth_price": ETH_PRICE,
            "musdc_price": USDC_PRICE,
            "run_refs_per_word": RUN_REFS_PER_WORD,
            "floors": {
                "single": FLOOR_SINGLE,
                "purchase": FLOOR_PURCHASE,
                "batch_per_run": FLOOR_BATCH_PER_RUN,
            },
        },
        "ok": not failed,
        "rows": bench.rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for row in failed:
        print(f"FLOOR EXCEEDED: {row}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

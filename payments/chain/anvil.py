"""Run a local anvil node (from the npm package @foundry-rs/anvil) on a free loopback port.

Used by the contract tests (session fixture), bench/gas.py and local development:

    with Anvil.start(chain_id=31337) as node:
        client = ChainClient(node.rpc_url)

    python -m payments.chain.anvil --print-path       # where the binary is
    python -m payments.chain.anvil --port 8545        # run in the foreground until Ctrl-C
    python -m payments.chain.anvil --port 8545 --state .cache/anvil-state.json   # ... and keep it
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from payments.chain.artifacts import CONTRACTS_DIR

ANVIL_BIN_ENV = "ANVIL_BIN"
HOST = "127.0.0.1"
DEFAULT_CHAIN_ID = 31337
# anvil's well-known development mnemonic; its accounts are public and funded on every dev node.
DEV_MNEMONIC = "test test test test test test test test test test test junk"

_NPM_PLATFORM = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Linux", "arm64"): "linux-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
    ("Darwin", "arm64"): "darwin-arm64",
}


class AnvilNotFound(RuntimeError):
    pass


class AnvilStartError(RuntimeError):
    pass


def npm_anvil_path() -> Path | None:
    suffix = _NPM_PLATFORM.get((platform.system(), platform.machine()))
    if suffix is None:
        return None
    return CONTRACTS_DIR / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / "anvil"


def find_anvil() -> str | None:
    """$ANVIL_BIN, then contracts/node_modules (npm ci --prefix contracts), then PATH."""
    candidates = [os.environ.get(ANVIL_BIN_ENV), npm_anvil_path()]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("anvil")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def dev_private_keys(count: int = 10) -> list[str]:
    """Private keys of anvil's default accounts (derived from DEV_MNEMONIC). Local chains only."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key.to_0x_hex()
        for i in range(count)
    ]


def _parent_death_signal():
    """A pre-exec hook for the child (Linux): get SIGTERM when the parent dies, so a killed test
    run or benchmark never leaves an orphaned node. prctl is resolved here, in the parent, so the
    child only makes one C call between fork and exec (no dlopen, no locks)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(  # noqa: S310 - the URL is always http://127.0.0.1:<port>
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read())["result"]


@dataclass
class Anvil:
    process: subprocess.Popen
    port: int
    chain_id: int
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def rpc_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def start(
        cls,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        port: int | None = None,
        block_time: float | None = None,
        accounts: int = 10,
        balance_eth: int = 10_000,
        hardfork: str | None = None,
        binary: str | None = None,
        extra_args: tuple[str, ...] = (),
        timeout: float = 20.0,
    ) -> Anvil:
        """Start anvil and wait until it answers eth_chainId. Raises AnvilNotFound/AnvilStartError.

        On Linux the node gets SIGTERM when the thread that started it exits: start it from the
        main thread (or another thread that lives as long as the node should).
        """
        binary = binary or find_anvil()
        if binary is None:
            raise AnvilNotFound(
                "anvil not found: run `npm ci --prefix contracts` (installs @foundry-rs/anvil) "
                f"or set {ANVIL_BIN_ENV}"
            )
        attempts = 1 if port is not None else 3  # a free port can be taken between probe and bind
        last_error: Exception | None = None
        for _ in range(attempts):
            try:
                return cls._start_once(
                    binary, chain_id, port or free_port(), block_time, accounts, balance_eth,
                    hardfork, extra_args, timeout,
                )  # fmt: skip
            except AnvilStartError as exc:
                last_error = exc
        raise last_error  # type: ignore[misc]

    @classmethod
    def _start_once(
        cls,
        binary,
        chain_id,
        port,
        block_time,
        accounts,
        balance_eth,
        hardfork,
        extra_args,
        timeout,
    ) -> Anvil:
        # Without this check, a node already listening there would answer the readiness probe.
        if not port_is_free(port):
            raise AnvilStartError(f"port {port} on {HOST} is already in use")
        args = [
            binary,
            "--host", HOST,
            "--port", str(port),
            "--chain-id", str(chain_id),
            "--accounts", str(accounts),
            "--balance", str(balance_eth),
            "--quiet",
        ]  # fmt: skip
        if block_time is not None:
            args += ["--block-time", str(block_time)]
        if hardfork:
            args += ["--hardfork", hardfork]
        args += list(extra_args)
        log_fd, log_name = tempfile.mkstemp(prefix="anvil-", suffix=".log")
        log_file = os.fdopen(log_fd, "wb")
        process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_parent_death_signal(),
        )
        node = cls(process, port, chain_id, Path(log_name), log_file)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                node.stop()
                raise AnvilStartError(f"anvil exited with {process.returncode}: {node.log_tail()}")
            try:
                if (
                    int(_rpc(node.rpc_url, "eth_chainId"), 16) == chain_id
                    and process.poll() is None
                ):
                    return node
            except (OSError, urllib.error.URLError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        node.stop()
        raise AnvilStartError(f"anvil did not answer within {timeout}s: {node.log_tail()}")

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local anvil node on 127.0.0.1.")
    parser.add_argument("--print-path", action="store_true", help="print the binary and exit")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    parser.add_argument("--block-time", type=float, default=None)
    parser.add_argument(
        "--state", default=None, help="load the chain from this file and save it there on exit"
    )
    args = parser.parse_args(argv)
    binary = find_anvil()
    if args.print_path:
        if binary is None:
            print("anvil not found; run `npm ci --prefix contracts`", file=sys.stderr)
            return 1
        print(binary)
        return 0
    extra: tuple[str, ...] = ()
    if args.state:
        # Saved every 10 s as well as on exit, so a hard kill loses little.
        extra = ("--state", args.state, "--state-interval", "10")
    node = Anvil.start(
        chain_id=args.chain_id, port=args.port, block_time=args.block_time, extra_args=extra
    )
    print(node.rpc_url, flush=True)
    stop = False

    def _handle(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    try:
        while not stop and node.process.poll() is None:
            time.sleep(0.2)
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A test agent that misbehaves in the way input["mode"] asks. Never shipped."""

import os
import socket
import subprocess
import sys
import time

from agentnexus_sdk import AgentError, agent


def _try(action):
    try:
        action()
    except OSError as exc:
        return {"ok": False, "errno": exc.errno, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True}


def network(input, ctx):
    def connect(host, port):
        return lambda: socket.create_connection((host, port), timeout=2).close()

    def resolve():
        socket.getaddrinfo("example.com", 80)

    return {
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "loopback": _try(connect("127.0.0.1", 80)),
        "private": _try(connect("10.0.0.1", 80)),
        "dns": _try(resolve),
    }


def write_fs(input, ctx):
    def write(path):
        def action():
            with open(path, "w") as f:
                f.write("x")

        return action

    def exec_tmp():
        script = "/tmp/run.sh"  # noqa: S108
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        os.chmod(script, 0o755)  # noqa: S103
        subprocess.run([script], check=True)  # noqa: S603

    results = {path: _try(write(path)) for path in input.get("paths", [])}
    results["exec:/tmp"] = _try(exec_tmp)
    results["uid"] = os.getuid()
    return results


def oom(input, ctx):
    hog = []
    for i in range(1, 1000):
        hog.append(bytearray(16 * 1024 * 1024))  # touched: bytearray is zero-filled
        if i % 4 == 0:
            ctx.log(f"holding {16 * i} MB")
    return {"allocated_mb": 16 * len(hog)}


def fork_bomb(input, ctx):
    children, error = 0, None
    while children < 10_000:
        try:
            pid = os.fork()
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
    return {"children": children, "error": error}


def log_flood(input, ctx):
    line = "y" * 1000
    for i in range(int(input.get("lines", 6000))):
        ctx.log(f"{i:06d} {line}")
    return {"done": True}


def leak(input, ctx):
    # Bypasses the SDK's redaction: the platform must redact secret values itself.
    value = ctx.secrets["API_KEY"]
    ctx._emit_raw(b'{"type":"log","level":"info","message":"key=' + value.encode() + b'"}\n')
    ctx.progress(50, "still here")
    raise AgentError("leaky", f"failed with key {value}")


def raw(data):
    def mode(input, ctx):
        ctx._emit_raw(data)
        time.sleep(float(input.get("then_sleep", 0)))
        return {"unreachable": True}

    return mode


def _crash(input, ctx):
    raise RuntimeError("boom")


def _error(input, ctx):
    raise AgentError("bad_input", "the input was rejected")


def _sleep(input, ctx):
    ctx.log("going to sleep")
    time.sleep(float(input.get("seconds", 3600)))
    return {"slept": True}


def _exit(input, ctx):
    ctx.log("exiting")
    sys.stdout.flush()
    os._exit(int(input.get("code", 3)))


MODES = {
    "ok": lambda input, ctx: {"ok": True, "input": input},
    "error": _error,
    "crash": _crash,
    "invalid_output": lambda input, ctx: {"unexpected": "shape"},
    "not_json": lambda input, ctx: {"value": float("nan")},
    "garbage": raw(b"this is not json\n"),
    "two_results": raw(b'{"type":"result","output":1}\n'),
    "oom": oom,
    "fork_bomb": fork_bomb,
    "sleep": _sleep,
    "network": network,
    "write_fs": write_fs,
    "log_flood": log_flood,
    "big_output": lambda input, ctx: {"data": "x" * int(input.get("size", 2_000_000))},
    "leak": leak,
    "exit": _exit,
}


@agent
def handle(input, ctx):
    return MODES[input["mode"]](input, ctx)


if __name__ == "__main__":
    startup = os.environ.get("MISBEHAVE_STARTUP", "serve")
    if startup == "exit":
        print("exiting before serving", file=sys.stderr)
        sys.exit(2)
    if startup == "hang":
        time.sleep(3600)
    handle.serve()

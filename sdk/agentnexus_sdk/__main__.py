"""`python3 -m agentnexus_sdk [--module app] [--socket PATH] [--once JSON]`

Imports the module (default `app`, from the working directory) and serves the agent it defines
with `@agent`. `--once '{"name": "Ada"}'` runs it a single time instead and prints the events as
NDJSON (local development; no socket).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from agentnexus_sdk._core import registered_agent
from agentnexus_sdk._server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m agentnexus_sdk")
    parser.add_argument("--module", default="app", help="module defining the @agent (default: app)")
    parser.add_argument("--socket", default=None, help="Unix socket path (default: $AGENT_SOCKET)")
    parser.add_argument("--once", metavar="JSON", default=None, help="run once with this input")
    args = parser.parse_args(argv)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    importlib.import_module(args.module)
    agent = registered_agent()
    if args.once is not None:
        events = agent.run_local(json.loads(args.once))
        for event in events:
            print(json.dumps(event, ensure_ascii=False))
        return 0 if events[-1].get("type") == "result" else 1
    serve(agent, socket_path=args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())

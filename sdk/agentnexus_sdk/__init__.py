"""AgentNexus agent SDK: write an agent as one function, the SDK speaks the platform protocol.

    from agentnexus_sdk import agent

    @agent
    def handle(input, ctx):
        ctx.log("starting")              # level="info" | "debug" | "warning" | "error"
        ctx.progress(50, "half way")     # percent 0-100
        return {"greeting": f"hello {input['name']}"}

    if __name__ == "__main__":
        handle.serve()                   # or run `python3 -m agentnexus_sdk` (imports `app`)

The platform starts the container, waits for `GET /health` on the Unix socket $AGENT_SOCKET, then
sends one `POST /execute`; the SDK calls the function and streams NDJSON events back: log and
progress events while it runs, then exactly one `result` (the return value, which must be JSON)
or `error` (`AgentError(code, message)` raised by the function, or code "agent_error" for any
other exception). Secrets arrive in `ctx.secrets`, never in the environment; their values are
replaced by "[redacted]" in everything the SDK sends except the result.

Standard library only: agent images are built and run without network access.
The protocol is documented in docs/agent-protocol.md.
"""

from agentnexus_sdk._core import (
    LOG_LEVELS,
    MAX_MESSAGE_CHARS,
    PROTOCOL_VERSION,
    Agent,
    AgentError,
    Context,
    agent,
    registered_agent,
)
from agentnexus_sdk._server import DEFAULT_SOCKET, serve

__version__ = "1.0.0"

__all__ = [
    "DEFAULT_SOCKET",
    "LOG_LEVELS",
    "MAX_MESSAGE_CHARS",
    "PROTOCOL_VERSION",
    "Agent",
    "AgentError",
    "Context",
    "__version__",
    "agent",
    "registered_agent",
    "serve",
]

"""Echo: greets the caller and echoes the input back. The smallest possible agent."""

from agentnexus_sdk import agent


@agent
def handle(input, ctx):
    name = str(input.get("name") or "world")
    ctx.log(f"received an input with {len(input)} field(s)")
    ctx.progress(50, "composing the greeting")
    greeting = f"hello {name}"
    ctx.progress(100, "done")
    return {"greeting": greeting, "echo": input}


if __name__ == "__main__":
    handle.serve()

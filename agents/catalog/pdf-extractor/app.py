"""PDF text extractor: the text of every page of a PDF given as base64, with its metadata.

The parsing lives in logic.py (standard library only, no SDK), this is the agent wrapper.
"""

from agentnexus_sdk import AgentError, agent
from logic import PDFError, extract_base64


@agent
def handle(input, ctx):
    value = input.get("pdf_base64")
    if not isinstance(value, str) or not value.strip():
        raise AgentError("bad_input", "pdf_base64 is required")
    ctx.log(f"decoding {len(value)} base64 characters")
    try:
        result = extract_base64(value, input.get("max_chars"), progress=ctx.progress)
    except PDFError as exc:
        raise AgentError(exc.code, str(exc)) from exc
    for warning in result["warnings"]:
        ctx.log(warning, level="warning")
    ctx.log(f"{result['pages']} page(s), {len(result['text'])} characters")
    return result


if __name__ == "__main__":
    handle.serve()

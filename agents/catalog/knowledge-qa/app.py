"""Knowledge Q&A: answers a question from the documents given in the input (BM25 + extraction).

The ranking lives in logic.py (standard library only, no SDK), this is the agent wrapper.
"""

from agentnexus_sdk import AgentError, agent
from logic import answer


@agent
def handle(input, ctx):
    question = input.get("question")
    documents = input.get("documents")
    if not isinstance(question, str) or not question.strip():
        raise AgentError("bad_input", "question is required")
    if not isinstance(documents, list) or not documents:
        raise AgentError("bad_input", "documents must be a non-empty list")
    if not all(isinstance(d, dict) and isinstance(d.get("text"), str) for d in documents):
        raise AgentError("bad_input", "every document needs a text")
    ctx.log(f"ranking passages of {len(documents)} document(s)")
    result = answer(question, documents, int(input.get("top_k") or 3))
    ctx.log("answered" if result["answered"] else "no passage matches the question")
    return result


if __name__ == "__main__":
    handle.serve()

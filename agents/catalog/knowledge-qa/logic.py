"""Extractive question answering over documents given in the input (standard library only).

The documents are split into passages (paragraphs, long ones into windows of sentences), ranked
against the question with Okapi BM25 (k1 = 1.5, b = 0.75) over a simple tokenizer with English
stopwords and light suffix stripping, and the answer is the sentence(s) of the best passage that
share the most question terms. When no passage shares a content word with the question, the answer
says so instead of guessing. Importable without the agent SDK.
"""

from __future__ import annotations

import math
import re
from collections import Counter

K1 = 1.5
B = 0.75
PASSAGE_WORDS = 120  # paragraphs longer than this are split into sentence windows
MAX_ANSWER_SENTENCES = 2
NO_ANSWER = "No answer found in the documents provided."

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further had hadn't has hasn't
    have haven't having he he'd he'll he's her here here's hers herself him himself his how
    how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most
    mustn't my myself no nor not of off on once only or other ought our ours ourselves out
    over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those through to too under until up very was wasn't we we'd we'll
    we're we've were weren't what what's when when's where where's which while who who's
    whom why why's with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves also does tell many much please""".split()  # noqa: SIM905 - a word list is easier to read as text
)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def stem(word: str) -> str:
    """Light suffix stripping so that 'launches', 'launched' and 'launch' meet."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""), ("ed", ""),
                         ("es", ""), ("s", ""), ("ly", "")):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)] + keep
    return word


def tokenize(text: str) -> list[str]:
    words = _TOKEN.findall(text.lower().replace("\u2019", "'"))
    return [
        stem(w.split("'")[0])
        for w in words
        if w not in STOPWORDS and w.split("'")[0] not in STOPWORDS
    ]


def sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in _SENTENCE.split(flat) if s.strip()] if flat else []


def split_passages(text: str) -> list[str]:
    """Paragraphs (blank-line separated); long ones become windows of whole sentences."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        sents = sentences(para)
        window: list[str] = []
        count = 0
        for sent in sents:
            n = len(sent.split())
            if window and count + n > PASSAGE_WORDS:
                out.append(" ".join(window))
                window, count = window[-1:], len(window[-1].split())  # one sentence of overlap
            window.append(sent)
            count += n
        if window:
            out.append(" ".join(window))
    return out


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.len = [len(d) for d in docs]
        self.avgdl = (sum(self.len) / len(docs)) if docs else 0.0
        df: Counter = Counter()
        for d in docs:
            df.update(set(d))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query: list[str], i: int) -> float:
        tf, dl = self.tf[i], self.len[i]
        norm = self.k1 * (1 - self.b + self.b * dl / self.avgdl) if self.avgdl else self.k1
        total = 0.0
        for term in query:
            f = tf.get(term, 0)
            if f:
                total += self.idf[term] * f * (self.k1 + 1) / (f + norm)
        return total


def answer(question: str, documents: list[dict], top_k: int = 3) -> dict:
    """{"answer", "answered", "coverage" (share of the question's terms found in the best passage),
    "passages": [{"doc_id", "title"?, "score", "text"}]}."""
    passages: list[tuple[str, str | None, str]] = []
    for n, doc in enumerate(documents, start=1):
        doc_id = str(doc.get("id") or f"doc-{n}")
        for text in split_passages(str(doc.get("text") or "")):
            passages.append((doc_id, doc.get("title"), text))
    query = list(dict.fromkeys(tokenize(question)))  # each question term counts once
    if not passages or not query:
        return {"answer": NO_ANSWER, "answered": False, "coverage": 0, "passages": []}
    # The title counts as part of each of its passages (it often names the subject).
    index = BM25([tokenize(f"{title or ''} {text}") for _, title, text in passages])
    scored = [(index.score(query, i), i) for i in range(len(passages))]
    ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[: max(1, top_k)]
    if not ranked:
        return {"answer": NO_ANSWER, "answered": False, "coverage": 0, "passages": []}
    out = []
    for score, i in ranked:
        doc_id, title, text = passages[i]
        item = {"doc_id": doc_id, "score": round(score, 4), "text": text}
        if title:
            item["title"] = str(title)
        out.append(item)
    top = passages[ranked[0][1]]
    covered = set(query) & set(tokenize(f"{top[1] or ''} {top[2]}"))
    return {
        "answer": best_sentences(query, top[2]),
        "answered": True,
        "coverage": round(len(covered) / len(query), 4),
        "passages": out,
    }


def best_sentences(query: list[str], passage: str) -> str:
    """The sentence sharing the most question terms (ties: the earlier one), plus the next one
    when it adds question terms the first lacks."""
    sents = sentences(passage) or [passage]
    terms = set(query)
    cover = [set(tokenize(s)) & terms for s in sents]
    best = max(range(len(sents)), key=lambda i: (len(cover[i]), -i))
    chosen = [best]
    if MAX_ANSWER_SENTENCES > 1 and best + 1 < len(sents) and cover[best + 1] - cover[best]:
        chosen.append(best + 1)
    return " ".join(sents[i] for i in chosen)

"""Page summarizer: title, headings, word count and an extractive summary of an HTML page.

No network: the page comes inline. Tags are stripped with html.parser; the summary is the
`max_sentences` sentences whose words are most frequent in the page (stop words ignored), in
page order.
"""

import re
from collections import Counter
from html.parser import HTMLParser

from agentnexus_sdk import AgentError, agent

SKIPPED = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Tags that end a run of text: their content never runs on into the next block's sentence.
BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "table", "td", "th", "tr", "ul", "title", *HEADINGS,
}  # fmt: skip
STOP_WORDS = set(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves also may might must one us""".split()  # noqa: SIM905
)
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")
SPACE = re.compile(r"\s+")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_depth = 0
        self.title_parts: list[str] | None = None
        self.title = ""
        self.heading: tuple[int, list[str]] | None = None
        self.headings: list[dict] = []
        self.blocks: list[str] = []
        self.current: list[str] = []

    def _end_block(self) -> None:
        text = SPACE.sub(" ", "".join(self.current)).strip()
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skip_depth += 1
            return
        if tag == "title" and not self.title:
            self.title_parts = []
        if tag in BLOCKS:
            self._end_block()
        if tag in HEADINGS:
            self.heading = (HEADINGS[tag], [])

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCKS:
            self._end_block()

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "title" and self.title_parts is not None:
            self.title = SPACE.sub(" ", "".join(self.title_parts)).strip()
            self.title_parts = None
            self.current = []
            return
        if tag in HEADINGS and self.heading is not None:
            level, parts = self.heading
            text = SPACE.sub(" ", "".join(parts)).strip()
            if text:
                self.headings.append({"level": level, "text": text})
            self.heading = None
            self.current = []  # headings are listed, not summarized
            return
        if tag in BLOCKS:
            self._end_block()

    def handle_data(self, data):
        if self.skip_depth:
            return
        if self.title_parts is not None:
            self.title_parts.append(data)
            return
        if self.heading is not None:
            self.heading[1].append(data)
        self.current.append(data)

    def close(self):
        super().close()
        self._end_block()


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD.findall(text)]


def summarize(html: str, max_sentences: int = 3) -> dict:
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    sentences = [
        s.strip() for block in parser.blocks for s in SENTENCE_END.split(block) if s.strip()
    ]
    all_words = [w for block in parser.blocks for w in words(block)]
    content = [w for w in all_words if w not in STOP_WORDS and not w.isdigit() and len(w) > 1]
    freq = Counter(content)
    top = max(freq.values(), default=1)

    def score(sentence: str) -> float:
        terms = [w for w in words(sentence) if w in freq]
        if not terms:
            return 0.0
        # Mean normalised frequency, damped for very short fragments.
        return sum(freq[w] / top for w in terms) / len(terms) * min(1.0, len(terms) / 4)

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(sentences[i]), i))
    chosen = sorted(ranked[:max_sentences])
    return {
        "title": parser.title or None,
        "headings": parser.headings,
        "summary": [sentences[i] for i in chosen],
        "word_count": len(all_words),
        "sentence_count": len(sentences),
        "top_words": [
            {"word": w, "count": c}
            for w, c in sorted(freq.items(), key=lambda i: (-i[1], i[0]))[:5]
        ],
    }


@agent
def handle(input, ctx):
    html = input.get("html")
    if not isinstance(html, str) or not html.strip():
        raise AgentError("empty_page", "The input has no HTML to summarize.")
    max_sentences = int(input.get("max_sentences", 3))
    ctx.log(f"parsing {len(html)} characters of HTML")
    ctx.progress(10, "parsing")
    result = summarize(html, max_sentences)
    ctx.progress(100, "summarized")
    ctx.log(f"{result['sentence_count']} sentences, {result['word_count']} words")
    return result


if __name__ == "__main__":
    handle.serve()

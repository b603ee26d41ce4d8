"""Demo catalog: the 20 agents named in the product specification (12 general-purpose, 8 crypto).

Pure data for ``manage.py seed_demo``: no Django imports, nothing touches the database here.
Each entry in ``DEMO_AGENTS`` describes one agent and its release history (oldest version first,
the last one is the current version). Every version carries its container image, its input and
output JSON Schemas (draft 2020-12), an example input that validates against the input schema,
its resource limits and its price per run in USDC.

Agent containers run without network access, so every general-purpose agent takes its content
inline (text, CSV, feed XML, base64 files). The two trading agents (Hyperliquid, Aster) default
to paper mode, which replays prices instead of placing orders; exchange API keys are user secrets
injected by the platform at run time and never appear in an input schema.

``validate_demo_catalog()`` checks the whole catalog; run it after any edit.
"""

import re
from decimal import Decimal
from textwrap import dedent

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

CATEGORIES = ("general", "crypto", "ai-ml", "automation")

# Category rows the seed command can create before the agents (matches marketplace.Category).
DEMO_CATEGORIES: list[dict] = [
    {
        "slug": "general",
        "name": "General",
        "description": "Everyday document, data and monitoring tasks.",
        "position": 0,
    },
    {
        "slug": "ai-ml",
        "name": "AI/ML",
        "description": "Language and vision models: summaries, translation, captions, Q&A.",
        "position": 1,
    },
    {
        "slug": "automation",
        "name": "Automation",
        "description": "Schedules, alerts and data pipelines that run without supervision.",
        "position": 2,
    },
    {
        "slug": "crypto",
        "name": "Crypto",
        "description": "Trading, DeFi and on-chain analytics agents.",
        "position": 3,
    },
]


# --------------------------------------------------------------------------------------------
# Schema helpers (plain dict builders; the results are ordinary JSON-compatible data)
# --------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Markdown written indented in this file, with the indentation removed."""
    return dedent(text).strip() + "\n"


def _p(type_: str | list[str], title: str, description: str, **constraints) -> dict:
    """One property: type, title, description, then any JSON Schema constraints."""
    return {"type": type_, "title": title, "description": description, **constraints}


def _array(title: str, description: str, items: dict, **constraints) -> dict:
    return _p("array", title, description, items=items, **constraints)


def _obj(
    title: str,
    description: str,
    properties: dict,
    required: list[str] | tuple[str, ...] = (),
    *,
    closed: bool = True,
    **extra,
) -> dict:
    schema = {
        "type": "object",
        "title": title,
        "description": description,
        "properties": properties,
        "required": list(required),
    }
    if closed:
        schema["additionalProperties"] = False
    schema.update(extra)
    return schema


def _input(title: str, description: str, properties: dict, required, **extra) -> dict:
    """A run-input schema: closed, so a mistyped field name is a 400, not a silent default."""
    return {"$schema": SCHEMA_DIALECT, **_obj(title, description, properties, required, **extra)}


def _output(title: str, description: str, properties: dict, required) -> dict:
    """A run-output schema: open, so an agent may add fields in a minor release."""
    return {
        "$schema": SCHEMA_DIALECT,
        **_obj(title, description, properties, required, closed=False),
    }


def _omit(properties: dict, *names: str) -> dict:
    return {key: value for key, value in properties.items() if key not in names}


def _image(slug: str, version: str) -> str:
    return f"agentnexus/{slug}:{version}"


_BASE64_PATTERN = "^[A-Za-z0-9+/]+={0,2}$"
_EVM_ADDRESS = "^0x[0-9a-fA-F]{40}$"
_EVM_TX_HASH = "^0x[0-9a-fA-F]{64}$"
_HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"

# An 8x8 PNG (sky blue above, green below) and a one-page PDF, used as example inputs.
_EXAMPLE_PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAGElEQVR42mNoP/caK2KgooRStxJWREUJADTJ"
    "YeHfPCJYAAAAAElFTkSuQmCC"
)
_EXAMPLE_PDF_BASE64 = (
    "JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoK"
    "PDwgL1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUg"
    "L1BhZ2UgL1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCAzMDAgMTQ0XSAvQ29udGVudHMgNCAwIFIgL1Jlc291"
    "cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIgPj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA0NiA+"
    "PgpzdHJlYW0KQlQgL0YxIDE4IFRmIDM2IDkwIFRkIChJbnZvaWNlIDIwMjQtMTE3KSBUaiBFVAplbmRzdHJlYW0K"
    "ZW5kb2JqCjUgMCBvYmoKPDwgL1R5cGUgL0ZvbnQgL1N1YnR5cGUgL1R5cGUxIC9CYXNlRm9udCAvSGVsdmV0aWNh"
    "ID4+CmVuZG9iagp4cmVmCjAgNgowMDAwMDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMDkgMDAwMDAgbiAKMDAwMDAw"
    "MDA1OCAwMDAwMCBuIAowMDAwMDAwMTE1IDAwMDAwIG4gCjAwMDAwMDAyNDEgMDAwMDAgbiAKMDAwMDAwMDMzNyAw"
    "MDAwMCBuIAp0cmFpbGVyCjw8IC9TaXplIDYgL1Jvb3QgMSAwIFIgPj4Kc3RhcnR4cmVmCjQwNwolJUVPRgo="
)


# ============================================================================================
# General-purpose agents (12): categories "ai-ml", "general", "automation"
# ============================================================================================

# --- 1. Web Content Summarizer --------------------------------------------------------------

_SUMMARIZER_PROPS = {
    "html": _p(
        "string",
        "Page HTML",
        "The full HTML of the page to summarize (save the page or copy its source). "
        "The agent has no network access and does not fetch URLs.",
        minLength=1,
        maxLength=2_000_000,
        contentMediaType="text/html",
    ),
    "max_sentences": _p(
        "integer",
        "Maximum sentences",
        "Upper bound on the number of sentences in the summary.",
        minimum=1,
        maximum=20,
        default=5,
    ),
}
_SUMMARIZER_OUTPUT = _output(
    "Summary",
    "An extractive summary of the page's main text.",
    {
        "title": _p(
            ["string", "null"],
            "Title",
            "The page title from <title>, og:title or the first <h1>; null if none.",
        ),
        "summary": _p(
            "string",
            "Summary",
            "The selected sentences, in their original order, joined into one paragraph.",
        ),
        "word_count": _p(
            "integer",
            "Word count",
            "Words in the extracted main text (not in the summary).",
            minimum=0,
        ),
    },
    ["title", "summary", "word_count"],
)
_SUMMARIZER_HTML = (
    "<html><head><title>City council approves 2025 cycling plan</title></head><body>"
    "<nav>Home | Local | Sport</nav><article><h1>City council approves 2025 cycling plan</h1>"
    "<p>The council voted 9 to 2 on Tuesday to fund 14 km of protected bike lanes.</p>"
    "<p>Construction starts in March on Harbour Road and finishes by October.</p>"
    "<p>The plan costs 4.2 million euros, 60 percent of it from a regional transport grant.</p>"
    "<p>Two councillors objected to the loss of 180 parking spaces on Harbour Road.</p>"
    "</article><footer>Accept cookies</footer></body></html>"
)

WEB_CONTENT_SUMMARIZER = {
    "slug": "web-content-summarizer",
    "name": "Web Content Summarizer",
    "summary": "Condenses the main text of a saved web page into a short extractive summary "
    "with its title and word count.",
    "description": _md(
        """
        Paste the HTML of an article, blog post or documentation page and get back the
        handful of sentences that carry most of its content. The agent first isolates the
        main text (dropping navigation, footers, cookie banners and related-link blocks),
        then ranks sentences with a TextRank-style graph and returns the top ones in their
        original order.

        Because the summary is extractive, every sentence appears verbatim in the source:
        nothing is paraphrased or invented. The word count refers to the extracted main
        text, which is a quick way to see how much the summary compressed.

        **What it does**

        - Extracts the main article text and the page title from raw HTML
        - Returns 1 to 20 sentences (default 5) in reading order
        - Handles pages up to 2 MB of HTML in a few seconds

        **Limits**

        - Does not fetch URLs or run JavaScript: pages rendered client-side need their
          rendered HTML saved first
        - Sentence ranking is tuned for English; other Latin-script languages work but
          with weaker boilerplate detection
        """
    ),
    "category": "ai-ml",
    "tags": ["nlp", "summarization", "html"],
    "featured": True,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: extractive three-sentence summary of the main text.",
            "image_ref": _image("web-content-summarizer", "1.0.0"),
            "input_schema": _input(
                "Summarize a web page",
                "HTML of the page to summarize.",
                _omit(_SUMMARIZER_PROPS, "max_sentences"),
                ["html"],
            ),
            "output_schema": _SUMMARIZER_OUTPUT,
            "example_input": {"html": _SUMMARIZER_HTML},
            "memory_mb": 256,
            "cpus": "0.5",
            "timeout_seconds": 60,
            "price": "0.10",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Add max_sentences (1-20, default 5).",
            "image_ref": _image("web-content-summarizer", "1.1.0"),
            "input_schema": _input(
                "Summarize a web page",
                "HTML of the page to summarize and the summary length.",
                _SUMMARIZER_PROPS,
                ["html"],
            ),
            "output_schema": _SUMMARIZER_OUTPUT,
            "example_input": {"html": _SUMMARIZER_HTML, "max_sentences": 2},
            "memory_mb": 256,
            "cpus": "0.5",
            "timeout_seconds": 60,
            "price": "0.10",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Drop cookie banners, nav menus and related-link blocks before ranking.",
            "image_ref": _image("web-content-summarizer", "1.2.0"),
            "input_schema": _input(
                "Summarize a web page",
                "HTML of the page to summarize and the summary length.",
                _SUMMARIZER_PROPS,
                ["html"],
            ),
            "output_schema": _SUMMARIZER_OUTPUT,
            "example_input": {"html": _SUMMARIZER_HTML, "max_sentences": 2},
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 60,
            "price": "0.10",
            "currency": "USDC",
        },
    ],
}

# --- 2. Email Assistant ----------------------------------------------------------------------

_EMAIL_TASKS_V1 = ["triage", "draft_reply", "summarize"]
_EMAIL_PROPS = {
    "message": _p(
        "string",
        "Email",
        "The email to work on: paste the raw message (with headers) or just From, Subject "
        "and body. Quoted earlier messages in the body are used as thread context.",
        minLength=1,
        maxLength=200_000,
    ),
    "task": _p(
        "string",
        "Task",
        "triage: category and priority; draft_reply: a reply you can edit and send; "
        "summarize: a 2-3 sentence summary; extract_actions: action items with due dates.",
        enum=[*_EMAIL_TASKS_V1, "extract_actions"],
        default="triage",
    ),
    "tone": _p(
        "string",
        "Reply tone",
        "Tone of the drafted reply (draft_reply only).",
        enum=["neutral", "friendly", "formal", "brief"],
        default="neutral",
    ),
    "your_name": _p(
        "string",
        "Your name",
        "How to sign the reply and who 'you' are when detecting requests addressed to you.",
        maxLength=100,
    ),
    "max_reply_words": _p(
        "integer",
        "Maximum reply length (words)",
        "Upper bound on the drafted reply's length.",
        minimum=20,
        maximum=600,
        default=150,
    ),
}
_EMAIL_OUTPUT = _output(
    "Email assistant result",
    "Triage labels, summary, action items and (for draft_reply) a reply draft.",
    {
        "category": _p(
            "string",
            "Category",
            "What kind of email this is.",
            enum=["action_required", "fyi", "meeting", "newsletter", "receipt", "spam_suspect"],
        ),
        "priority": _p("string", "Priority", "Suggested priority.", enum=["low", "normal", "high"]),
        "summary": _p("string", "Summary", "Two or three sentences on what the email says."),
        "action_items": _array(
            "Action items",
            "Requests addressed to you, in the order they appear.",
            _obj(
                "Action item",
                "One thing the sender asks you to do.",
                {
                    "description": _p("string", "Description", "What to do."),
                    "due": _p(
                        ["string", "null"],
                        "Due date",
                        "ISO date if a deadline was stated or implied, otherwise null.",
                        format="date",
                    ),
                },
                ["description", "due"],
                closed=False,
            ),
        ),
        "draft_reply": _p(
            ["string", "null"],
            "Draft reply",
            "Plain-text reply for task draft_reply; null for other tasks. Never sent by the agent.",
        ),
    },
    ["category", "priority", "summary", "action_items", "draft_reply"],
)
_EMAIL_EXAMPLE_MESSAGE = (
    "From: Priya Raman <priya@northwind.example>\n"
    "Subject: Q3 vendor review - need your numbers\n\n"
    "Hi Sam,\n\nCould you send me the Q3 spend per vendor by Thursday? I also need a yes/no "
    "on renewing the Acme support contract before the 30th.\n\nThanks,\nPriya"
)

EMAIL_ASSISTANT = {
    "slug": "email-assistant",
    "name": "Email Assistant",
    "summary": "Triages an email, pulls out action items with due dates and drafts a reply in "
    "the tone you choose.",
    "description": _md(
        """
        Paste an email (raw with headers, or just sender, subject and body) and pick a task:
        triage it, summarize it, extract the action items, or draft a reply. Quoted earlier
        messages in the body are read as thread context, so replies address the whole
        conversation rather than only the last message.

        The agent never sends anything and never connects to a mailbox: you get text back
        and decide what to do with it. Drafts are plain text, signed with the name you give.

        **What it does**

        - Labels the email (action required, FYI, meeting, newsletter, receipt, suspected
          spam) and suggests a priority
        - Lists requests addressed to you, with ISO due dates when a deadline is stated
          ("by Thursday" is resolved against the email's Date header)
        - Drafts replies in a neutral, friendly, formal or brief tone

        **Limits**

        - Attachments are ignored; only the text body is read
        - Spam detection is a hint based on wording and headers, not a filter
        """
    ),
    "category": "general",
    "tags": ["email", "productivity", "nlp"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: triage, summaries and reply drafts.",
            "image_ref": _image("email-assistant", "1.0.0"),
            "input_schema": _input(
                "Work on an email",
                "The email and what to do with it.",
                {
                    **_EMAIL_PROPS,
                    "task": {**_EMAIL_PROPS["task"], "enum": _EMAIL_TASKS_V1},
                },
                ["message", "task"],
            ),
            "output_schema": _EMAIL_OUTPUT,
            "example_input": {"message": _EMAIL_EXAMPLE_MESSAGE, "task": "triage"},
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 120,
            "price": "0.15",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Add the extract_actions task and due-date resolution for action items.",
            "image_ref": _image("email-assistant", "1.1.0"),
            "input_schema": _input(
                "Work on an email",
                "The email and what to do with it.",
                _EMAIL_PROPS,
                ["message", "task"],
            ),
            "output_schema": _EMAIL_OUTPUT,
            "example_input": {
                "message": _EMAIL_EXAMPLE_MESSAGE,
                "task": "draft_reply",
                "tone": "friendly",
                "your_name": "Sam",
                "max_reply_words": 120,
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 120,
            "price": "0.15",
            "currency": "USDC",
        },
    ],
}

# --- 3. Image Captioner ----------------------------------------------------------------------

_CAPTIONER_PROPS = {
    "image_base64": _p(
        "string",
        "Image",
        "The image file (JPEG, PNG or WebP, at most 10 MB) encoded as base64, without a "
        "data: URL prefix.",
        minLength=16,
        maxLength=14_000_000,
        pattern=_BASE64_PATTERN,
        contentEncoding="base64",
        contentMediaType="image/*",
    ),
    "detail": _p(
        "string",
        "Caption style",
        "alt_text: one concise sentence for screen readers; short: a few words; "
        "detailed: a paragraph describing scene, objects and visible text.",
        enum=["alt_text", "short", "detailed"],
        default="alt_text",
    ),
    "max_length": _p(
        "integer",
        "Maximum caption length (characters)",
        "The caption is cut at a word boundary below this length.",
        minimum=20,
        maximum=1000,
        default=125,
    ),
    "language": _p(
        "string",
        "Caption language",
        "Language of the caption and tags.",
        enum=["en", "es", "fr", "de", "pt", "it", "ja"],
        default="en",
    ),
}
_CAPTIONER_V1_PROPS = {
    **_omit(_CAPTIONER_PROPS, "language"),
    "detail": _p(
        "string",
        "Caption style",
        "short: a few words; detailed: a paragraph describing scene and objects.",
        enum=["short", "detailed"],
        default="short",
    ),
}
_CAPTIONER_OUTPUT_COMMON = {
    "caption": _p("string", "Caption", "The generated caption."),
    "width": _p("integer", "Width", "Image width in pixels.", minimum=1),
    "height": _p("integer", "Height", "Image height in pixels.", minimum=1),
    "content_warning": _p(
        "boolean",
        "Content warning",
        "True if the image likely shows graphic or adult content.",
    ),
}

IMAGE_CAPTIONER = {
    "slug": "image-captioner",
    "name": "Image Captioner",
    "summary": "Writes alt text, short captions or detailed descriptions for an image, plus "
    "labelled tags with confidence scores.",
    "description": _md(
        """
        Send an image as base64 and get a caption in the style you need: alt text for
        accessibility (one sentence, about 125 characters), a short label, or a detailed
        paragraph covering the scene, the main objects and any legible text. The agent also
        returns object and scene tags with confidence scores, handy for search indexing.

        The model runs inside the container on CPU; a typical photo takes 3-6 seconds.

        **What it does**

        - Captions JPEG, PNG and WebP images up to 10 MB
        - Writes captions in English, Spanish, French, German, Portuguese, Italian or
          Japanese
        - Flags images that likely contain graphic or adult content

        **Limits**

        - Never identifies people by name, even well-known ones
        - Reads short printed text in images, but is not an OCR tool (use PDF Extractor
          with OCR for documents)
        """
    ),
    "category": "ai-ml",
    "tags": ["vision", "accessibility", "captioning"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: short and detailed English captions, tags as strings.",
            "image_ref": _image("image-captioner", "1.0.0"),
            "input_schema": _input(
                "Caption an image",
                "The image and the caption style.",
                _CAPTIONER_V1_PROPS,
                ["image_base64"],
            ),
            "output_schema": _output(
                "Caption",
                "Caption and tags for the image.",
                {
                    **_CAPTIONER_OUTPUT_COMMON,
                    "tags": _array(
                        "Tags",
                        "Objects and scene labels seen in the image.",
                        {"type": "string"},
                    ),
                },
                ["caption", "tags", "width", "height"],
            ),
            "example_input": {"image_base64": _EXAMPLE_PNG_BASE64, "detail": "short"},
            "memory_mb": 2048,
            "cpus": "2.0",
            "timeout_seconds": 120,
            "price": "0.08",
            "currency": "USDC",
        },
        {
            "version": "2.0.0",
            "changelog": "Breaking: tags now carry confidence scores; new alt_text default style "
            "and six more caption languages.",
            "image_ref": _image("image-captioner", "2.0.0"),
            "input_schema": _input(
                "Caption an image",
                "The image, the caption style and the language.",
                _CAPTIONER_PROPS,
                ["image_base64"],
            ),
            "output_schema": _output(
                "Caption",
                "Caption and tags for the image.",
                {
                    **_CAPTIONER_OUTPUT_COMMON,
                    "tags": _array(
                        "Tags",
                        "Objects and scene labels, most confident first.",
                        _obj(
                            "Tag",
                            "One label and how sure the model is.",
                            {
                                "label": _p("string", "Label", "Object or scene name."),
                                "confidence": _p(
                                    "number",
                                    "Confidence",
                                    "Model confidence from 0 to 1.",
                                    minimum=0,
                                    maximum=1,
                                ),
                            },
                            ["label", "confidence"],
                            closed=False,
                        ),
                    ),
                },
                ["caption", "tags", "width", "height", "content_warning"],
            ),
            "example_input": {
                "image_base64": _EXAMPLE_PNG_BASE64,
                "detail": "alt_text",
                "max_length": 125,
                "language": "en",
            },
            "memory_mb": 3072,
            "cpus": "2.0",
            "timeout_seconds": 120,
            "price": "0.08",
            "currency": "USDC",
        },
    ],
}

# --- 4. Spreadsheet Analyzer -----------------------------------------------------------------

_SPREADSHEET_PROPS = {
    "csv": _p(
        "string",
        "CSV data",
        "The spreadsheet as CSV text (export it from Excel, Sheets or Numbers). "
        "UTF-8, at most 5 MB.",
        minLength=1,
        maxLength=5_000_000,
        contentMediaType="text/csv",
    ),
    "has_header": _p(
        "boolean",
        "First row is a header",
        "Use the first row as column names; otherwise columns are named column_1, column_2...",
        default=True,
    ),
    "delimiter": _p(
        "string",
        "Delimiter",
        "Field separator. Semicolon is common in European exports; \\t means tab.",
        enum=[",", ";", "\t", "|"],
        default=",",
    ),
    "columns": _array(
        "Columns to analyze",
        "Only analyze these columns (by header name). Leave empty to analyze all columns.",
        {"type": "string", "minLength": 1},
        maxItems=200,
        uniqueItems=True,
    ),
}
_SPREADSHEET_OUTPUT = _output(
    "Column statistics",
    "Row and column counts and per-column statistics.",
    {
        "row_count": _p("integer", "Rows", "Data rows (header excluded).", minimum=0),
        "column_count": _p("integer", "Columns", "Columns in the file.", minimum=0),
        "columns": _array(
            "Columns",
            "Statistics for each analyzed column, in file order.",
            _obj(
                "Column",
                "Statistics for one column. Numeric fields are null for non-numeric columns.",
                {
                    "name": _p("string", "Name", "Column name."),
                    "inferred_type": _p(
                        "string",
                        "Type",
                        "Type inferred from the values.",
                        enum=["integer", "number", "boolean", "date", "string", "empty"],
                    ),
                    "non_null": _p("integer", "Values", "Non-empty cells.", minimum=0),
                    "nulls": _p("integer", "Empty cells", "Empty or NA cells.", minimum=0),
                    "distinct": _p("integer", "Distinct values", "Distinct values.", minimum=0),
                    "min": _p(
                        ["number", "string", "null"],
                        "Minimum",
                        "Smallest value (earliest date for date columns).",
                    ),
                    "max": _p(
                        ["number", "string", "null"],
                        "Maximum",
                        "Largest value (latest date for date columns).",
                    ),
                    "mean": _p(["number", "null"], "Mean", "Arithmetic mean."),
                    "median": _p(["number", "null"], "Median", "Median."),
                    "stddev": _p(["number", "null"], "Std. deviation", "Sample std. deviation."),
                    "top_values": _array(
                        "Most frequent values",
                        "Up to 5 most frequent values with their counts.",
                        _obj(
                            "Value count",
                            "A value and how often it occurs.",
                            {
                                "value": _p("string", "Value", "The cell value as text."),
                                "count": _p("integer", "Count", "Occurrences.", minimum=1),
                            },
                            ["value", "count"],
                            closed=False,
                        ),
                        maxItems=5,
                    ),
                },
                ["name", "inferred_type", "non_null", "nulls", "distinct"],
                closed=False,
            ),
        ),
        "warnings": _array(
            "Warnings",
            "Problems found while parsing, e.g. rows with the wrong number of fields.",
            {"type": "string"},
        ),
    },
    ["row_count", "column_count", "columns", "warnings"],
)
_SPREADSHEET_CSV = (
    "order_id,date,region,units,unit_price\n"
    "1001,2024-07-01,North,12,9.50\n"
    "1002,2024-07-01,South,5,9.50\n"
    "1003,2024-07-02,North,,12.00\n"
    "1004,2024-07-03,West,30,8.75\n"
    "1005,2024-07-03,South,7,12.00\n"
)

SPREADSHEET_ANALYZER = {
    "slug": "spreadsheet-analyzer",
    "name": "Spreadsheet Analyzer",
    "summary": "Profiles a CSV export: inferred column types, empty cells, distinct values, "
    "min/max, mean, median and top values.",
    "description": _md(
        """
        Paste a CSV export and get a profile of every column: the inferred type (integer,
        number, boolean, date or text), how many cells are empty, how many distinct values
        there are, and for numeric columns the minimum, maximum, mean, median and standard
        deviation. The five most frequent values of each column are listed too, which makes
        typos in category columns easy to spot.

        Use it as a first look at an unfamiliar file or as a sanity check before importing
        data somewhere else. Parsing problems (ragged rows, unterminated quotes) are
        reported as warnings instead of failing the run.

        **What it does**

        - Parses comma, semicolon, tab or pipe separated files up to 5 MB
        - Detects ISO 8601 and DD/MM/YYYY dates
        - Restricts the analysis to chosen columns when the file is wide

        **Limits**

        - One sheet per run: export each sheet of a workbook separately
        - No charts, pivots or formulas; statistics only
        """
    ),
    "category": "general",
    "tags": ["csv", "data-analysis", "statistics"],
    "featured": True,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: type inference and summary statistics per column.",
            "image_ref": _image("spreadsheet-analyzer", "1.0.0"),
            "input_schema": _input(
                "Analyze a CSV file",
                "The CSV text to profile.",
                _omit(_SPREADSHEET_PROPS, "delimiter", "columns"),
                ["csv"],
            ),
            "output_schema": _SPREADSHEET_OUTPUT,
            "example_input": {"csv": _SPREADSHEET_CSV},
            "memory_mb": 512,
            "cpus": "1.0",
            "timeout_seconds": 120,
            "price": "0.25",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Delimiter option (comma, semicolon, tab, pipe) and top values per "
            "column.",
            "image_ref": _image("spreadsheet-analyzer", "1.1.0"),
            "input_schema": _input(
                "Analyze a CSV file",
                "The CSV text to profile and how it is delimited.",
                _omit(_SPREADSHEET_PROPS, "columns"),
                ["csv"],
            ),
            "output_schema": _SPREADSHEET_OUTPUT,
            "example_input": {"csv": _SPREADSHEET_CSV, "delimiter": ","},
            "memory_mb": 512,
            "cpus": "1.0",
            "timeout_seconds": 120,
            "price": "0.25",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Detect date columns and allow restricting the analysis to chosen "
            "columns.",
            "image_ref": _image("spreadsheet-analyzer", "1.2.0"),
            "input_schema": _input(
                "Analyze a CSV file",
                "The CSV text to profile, how it is delimited and which columns to analyze.",
                _SPREADSHEET_PROPS,
                ["csv"],
            ),
            "output_schema": _SPREADSHEET_OUTPUT,
            "example_input": {"csv": _SPREADSHEET_CSV, "has_header": True, "delimiter": ","},
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 120,
            "price": "0.25",
            "currency": "USDC",
        },
    ],
}

# --- 5. News Aggregator ----------------------------------------------------------------------

_NEWS_PROPS = {
    "feeds": _array(
        "Feeds",
        "RSS 2.0 or Atom documents to merge, one per source. Download them with your feed "
        "reader or the Task Automation agent; this agent does not fetch URLs.",
        _obj(
            "Feed",
            "One feed document and the name to show for it.",
            {
                "source": _p(
                    "string",
                    "Source name",
                    "Label shown next to each item, e.g. 'Reuters Tech'.",
                    minLength=1,
                    maxLength=80,
                ),
                "xml": _p(
                    "string",
                    "Feed XML",
                    "The RSS or Atom XML document.",
                    minLength=1,
                    maxLength=2_000_000,
                    contentMediaType="application/xml",
                ),
            },
            ["source", "xml"],
        ),
        minItems=1,
        maxItems=50,
    ),
    "keywords": _array(
        "Keywords",
        "Keep only items mentioning at least one of these words (case-insensitive). "
        "Leave empty to keep everything.",
        {"type": "string", "minLength": 2, "maxLength": 60},
        maxItems=30,
        uniqueItems=True,
    ),
    "exclude_keywords": _array(
        "Excluded keywords",
        "Drop items mentioning any of these words.",
        {"type": "string", "minLength": 2, "maxLength": 60},
        maxItems=30,
        uniqueItems=True,
    ),
    "since": _p(
        "string",
        "Published since",
        "Drop items published before this time (UTC if no offset is given).",
        format="date-time",
    ),
    "max_items": _p(
        "integer",
        "Maximum items",
        "How many items to return, best-ranked first.",
        minimum=1,
        maximum=200,
        default=30,
    ),
    "dedupe": _p(
        "boolean",
        "Merge duplicates",
        "Group near-identical stories from different sources under one cluster.",
        default=True,
    ),
}
_NEWS_OUTPUT = _output(
    "Digest",
    "Merged, filtered and ranked feed items.",
    {
        "items": _array(
            "Items",
            "Items ranked by keyword relevance and recency.",
            _obj(
                "Item",
                "One news item.",
                {
                    "title": _p("string", "Title", "Headline."),
                    "link": _p(["string", "null"], "Link", "Article URL.", format="uri"),
                    "source": _p("string", "Source", "Source name from the input."),
                    "published": _p(
                        ["string", "null"],
                        "Published",
                        "Publication time in UTC, if the feed gives one.",
                        format="date-time",
                    ),
                    "snippet": _p("string", "Snippet", "First 300 characters, tags removed."),
                    "cluster_id": _p(
                        "integer",
                        "Story cluster",
                        "Items with the same cluster id report the same story.",
                        minimum=0,
                    ),
                    "score": _p("number", "Score", "Ranking score from 0 to 1.", minimum=0),
                },
                ["title", "link", "source", "published", "snippet", "cluster_id", "score"],
                closed=False,
            ),
        ),
        "total_parsed": _p("integer", "Items parsed", "Items read from all feeds.", minimum=0),
        "duplicates_merged": _p(
            "integer", "Duplicates merged", "Items folded into an existing cluster.", minimum=0
        ),
        "feed_errors": _array(
            "Feed errors",
            "Feeds that could not be parsed, with the reason.",
            {"type": "string"},
        ),
    },
    ["items", "total_parsed", "duplicates_merged", "feed_errors"],
)
_NEWS_FEED_XML = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Example Tech</title>'
    "<item><title>Chipmaker raises full-year outlook on data-center demand</title>"
    "<link>https://news.example.com/chip-outlook</link>"
    "<pubDate>Tue, 08 Oct 2024 14:05:00 GMT</pubDate>"
    "<description>Revenue guidance rose 8 percent.</description></item>"
    "<item><title>City trials driverless buses on two routes</title>"
    "<link>https://news.example.com/driverless-buses</link>"
    "<pubDate>Tue, 08 Oct 2024 09:30:00 GMT</pubDate>"
    "<description>The six-month pilot starts in November.</description></item>"
    "</channel></rss>"
)

NEWS_AGGREGATOR = {
    "slug": "news-aggregator",
    "name": "News Aggregator",
    "summary": "Merges RSS and Atom feeds into one ranked digest, filtered by keywords and "
    "with duplicate stories grouped.",
    "description": _md(
        """
        Give the agent up to 50 RSS or Atom feed documents and it returns a single digest:
        items are parsed, filtered by the keywords you include or exclude, ranked by
        relevance and recency, and stories covered by several sources are grouped into one
        cluster so you read each story once.

        Pair it with the Task Automation agent or your own scheduler to produce a daily
        briefing; the agent itself only processes the feeds you pass in.

        **What it does**

        - Parses RSS 2.0 and Atom 1.0, including feeds with HTML in descriptions
        - Groups near-duplicate headlines across sources (MinHash over title and lead)
        - Reports feeds it could not parse instead of failing the whole run

        **Limits**

        - Works on the feed text only: it does not download full articles
        - Keyword matching is literal (no synonyms or stemming beyond plurals)
        """
    ),
    "category": "general",
    "tags": ["news", "rss", "monitoring"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: merge, keyword filter and rank RSS/Atom feeds.",
            "image_ref": _image("news-aggregator", "1.0.0"),
            "input_schema": _input(
                "Build a news digest",
                "Feeds to merge and how to filter them.",
                _omit(_NEWS_PROPS, "dedupe"),
                ["feeds"],
            ),
            "output_schema": _NEWS_OUTPUT,
            "example_input": {
                "feeds": [{"source": "Example Tech", "xml": _NEWS_FEED_XML}],
                "max_items": 10,
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 120,
            "price": "0.12",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Group near-duplicate stories across sources into clusters.",
            "image_ref": _image("news-aggregator", "1.1.0"),
            "input_schema": _input(
                "Build a news digest",
                "Feeds to merge and how to filter them.",
                _NEWS_PROPS,
                ["feeds"],
            ),
            "output_schema": _NEWS_OUTPUT,
            "example_input": {
                "feeds": [{"source": "Example Tech", "xml": _NEWS_FEED_XML}],
                "keywords": ["chip", "data-center"],
                "since": "2024-10-08T00:00:00Z",
                "max_items": 10,
                "dedupe": True,
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 120,
            "price": "0.12",
            "currency": "USDC",
        },
    ],
}

# --- 6. Language Translator ------------------------------------------------------------------

_LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "uk", "tr", "ar", "zh", "ja", "ko"]
_TRANSLATOR_PROPS = {
    "text": _p(
        "string",
        "Text",
        "Text to translate. Line breaks and Markdown formatting are preserved.",
        minLength=1,
        maxLength=50_000,
    ),
    "source_language": _p(
        "string",
        "From",
        "ISO 639-1 code of the source language, or auto to detect it.",
        enum=["auto", *_LANGUAGES],
        default="auto",
    ),
    "target_language": _p(
        "string",
        "To",
        "ISO 639-1 code of the language to translate into.",
        enum=_LANGUAGES,
        default="en",
    ),
    "glossary": _array(
        "Glossary",
        "Terms that must be translated a fixed way (product names, legal terms).",
        _obj(
            "Glossary entry",
            "A source term and its required translation.",
            {
                "source": _p("string", "Term", "Term in the source text.", minLength=1),
                "target": _p("string", "Translation", "Required translation.", minLength=1),
            },
            ["source", "target"],
        ),
        maxItems=200,
    ),
    "formality": _p(
        "string",
        "Formality",
        "Formal or informal address (Sie/du, vous/tu, usted/tu...). Ignored for target "
        "languages without the distinction, such as English.",
        enum=["default", "formal", "informal"],
        default="default",
    ),
}
_TRANSLATOR_OUTPUT = _output(
    "Translation",
    "The translated text and what was detected.",
    {
        "translated_text": _p("string", "Translation", "The translated text."),
        "detected_source_language": _p(
            "string", "Detected language", "Source language code, detected or as given."
        ),
        "characters": _p("integer", "Characters", "Characters translated.", minimum=0),
        "glossary_hits": _p(
            "integer", "Glossary hits", "Glossary terms found and applied.", minimum=0
        ),
    },
    ["translated_text", "detected_source_language", "characters", "glossary_hits"],
)
_TRANSLATOR_TEXT = (
    "Your order has shipped. Track it in the AgentNexus app; returns are free within 30 days."
)

LANGUAGE_TRANSLATOR = {
    "slug": "language-translator",
    "name": "Language Translator",
    "summary": "Translates text between 14 languages with glossary enforcement, formality "
    "control and preserved formatting.",
    "description": _md(
        """
        Translates up to 50,000 characters per run between English, Spanish, French,
        German, Italian, Portuguese, Dutch, Polish, Ukrainian, Turkish, Arabic, Chinese,
        Japanese and Korean, with automatic source-language detection. The model runs in
        the container, so your text is not sent to any third-party translation service.

        A glossary keeps product names and domain terms consistent, and the formality
        setting chooses formal or informal address in languages that make the distinction.
        Markdown and line breaks survive translation, so help-center articles can be
        translated as-is.

        **What it does**

        - Detects the source language when set to auto
        - Applies up to 200 glossary entries exactly
        - Preserves paragraphs, lists, links and inline code

        **Limits**

        - Quality is strongest for pairs with English; other pairs work best with short,
          plain sentences
        - Not a certified translation; review legal and medical text with a professional
        """
    ),
    "category": "ai-ml",
    "tags": ["translation", "nlp", "localization"],
    "featured": True,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: 14 languages with automatic detection.",
            "image_ref": _image("language-translator", "1.0.0"),
            "input_schema": _input(
                "Translate text",
                "Text and language pair.",
                _omit(_TRANSLATOR_PROPS, "glossary", "formality"),
                ["text", "target_language"],
            ),
            "output_schema": _TRANSLATOR_OUTPUT,
            "example_input": {"text": _TRANSLATOR_TEXT, "target_language": "de"},
            "memory_mb": 4096,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "0.20",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Glossary support (up to 200 entries).",
            "image_ref": _image("language-translator", "1.1.0"),
            "input_schema": _input(
                "Translate text",
                "Text, language pair and glossary.",
                _omit(_TRANSLATOR_PROPS, "formality"),
                ["text", "target_language"],
            ),
            "output_schema": _TRANSLATOR_OUTPUT,
            "example_input": {
                "text": _TRANSLATOR_TEXT,
                "target_language": "de",
                "glossary": [{"source": "AgentNexus app", "target": "AgentNexus-App"}],
            },
            "memory_mb": 4096,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "0.20",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Formality control for German, French, Spanish, Italian, Dutch, Polish, "
            "Portuguese and Japanese.",
            "image_ref": _image("language-translator", "1.2.0"),
            "input_schema": _input(
                "Translate text",
                "Text, language pair, glossary and formality.",
                _TRANSLATOR_PROPS,
                ["text", "target_language"],
            ),
            "output_schema": _TRANSLATOR_OUTPUT,
            "example_input": {
                "text": _TRANSLATOR_TEXT,
                "source_language": "en",
                "target_language": "de",
                "glossary": [{"source": "AgentNexus app", "target": "AgentNexus-App"}],
                "formality": "formal",
            },
            "memory_mb": 4096,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "0.20",
            "currency": "USDC",
        },
    ],
}

# --- 7. Social Media Scheduler ---------------------------------------------------------------

_SOCIAL_PLATFORMS_V1 = ["x", "linkedin", "mastodon"]
_SOCIAL_PROPS = {
    "posts": _array(
        "Posts",
        "The posts to schedule, in order of priority.",
        _obj(
            "Post",
            "One post; it is adapted to each platform's length limit.",
            {
                "text": _p("string", "Text", "Post text.", minLength=1, maxLength=5000),
                "link": _p(
                    "string",
                    "Link",
                    "Optional URL appended to the post (counted as 23 characters on X).",
                    format="uri",
                ),
                "hashtags": _array(
                    "Hashtags",
                    "Hashtags without the # sign; dropped first when a post is too long.",
                    {"type": "string", "pattern": "^[A-Za-z0-9_]{1,50}$"},
                    maxItems=10,
                ),
            },
            ["text"],
        ),
        minItems=1,
        maxItems=100,
    ),
    "platforms": _array(
        "Platforms",
        "Where to publish. Character limits: X 280, LinkedIn 3000, Mastodon 500, "
        "Bluesky 300, Instagram 2200.",
        {"type": "string", "enum": [*_SOCIAL_PLATFORMS_V1, "bluesky", "instagram"]},
        minItems=1,
        uniqueItems=True,
    ),
    "start_date": _p("string", "Start date", "First day of the schedule.", format="date"),
    "days": _p(
        "integer", "Days", "Length of the schedule in days.", minimum=1, maximum=90, default=14
    ),
    "posts_per_day": _p(
        "integer",
        "Posts per day",
        "Maximum posts per platform per day.",
        minimum=1,
        maximum=10,
        default=2,
    ),
    "timezone": _p(
        "string",
        "Time zone",
        "IANA time zone of your audience, e.g. Europe/Berlin.",
        minLength=1,
        maxLength=64,
        default="UTC",
    ),
    "quiet_hours_start": _p(
        "string", "Quiet hours start", "No posts from this local time (HH:MM).", pattern=_HHMM
    ),
    "quiet_hours_end": _p(
        "string", "Quiet hours end", "Posting resumes at this local time (HH:MM).", pattern=_HHMM
    ),
}
_SOCIAL_OUTPUT = _output(
    "Posting schedule",
    "A per-platform schedule plus calendar and CSV exports.",
    {
        "schedule": _array(
            "Schedule",
            "Scheduled posts in chronological order.",
            _obj(
                "Scheduled post",
                "One post on one platform at one time.",
                {
                    "platform": _p("string", "Platform", "Target platform."),
                    "scheduled_at": _p(
                        "string", "Time", "Publication time with offset.", format="date-time"
                    ),
                    "text": _p("string", "Text", "Platform-adapted text."),
                    "characters": _p("integer", "Length", "Counted characters.", minimum=0),
                    "shortened": _p(
                        "boolean", "Shortened", "True if hashtags or text were cut to fit."
                    ),
                },
                ["platform", "scheduled_at", "text", "characters", "shortened"],
                closed=False,
            ),
        ),
        "ics": _p("string", "Calendar (ICS)", "iCalendar file with one event per post."),
        "csv": _p(
            "string",
            "Bulk-upload CSV",
            "CSV with date, time, platform and text columns for bulk-upload tools.",
        ),
        "warnings": _array(
            "Warnings",
            "e.g. posts that did not fit in the schedule window.",
            {"type": "string"},
        ),
    },
    ["schedule", "ics", "warnings"],
)
_SOCIAL_POSTS = [
    {
        "text": "Our autumn release adds offline mode and a redesigned dashboard.",
        "link": "https://example.com/blog/autumn-release",
        "hashtags": ["productupdate"],
    },
    {"text": "Webinar Thursday 17:00 CET: migrating from v2 to v3 in under an hour."},
]

SOCIAL_MEDIA_SCHEDULER = {
    "slug": "social-media-scheduler",
    "name": "Social Media Scheduler",
    "summary": "Spreads a batch of posts over a posting calendar per platform, fits each to "
    "the length limit and exports ICS and CSV.",
    "description": _md(
        """
        Give it a batch of posts, the platforms you publish on and a date range, and it
        produces a posting calendar: posts are spread evenly across days, kept out of your
        quiet hours, and adapted to each platform's length limit (hashtags are dropped
        before text is shortened, and every shortened post is flagged).

        The agent does not log in to any social network. You get the schedule as JSON, as
        an ICS calendar you can import into your calendar app, and as a CSV in the format
        most bulk-upload tools accept.

        **What it does**

        - Schedules up to 100 posts over up to 90 days, in your audience's time zone
        - Adapts posts for X, LinkedIn, Mastodon, Bluesky and Instagram captions
        - Keeps each platform under the posts-per-day cap you set

        **Limits**

        - Does not publish, upload media or read engagement data
        - Timing is even spacing inside allowed hours, not audience analytics
        """
    ),
    "category": "automation",
    "tags": ["social-media", "scheduling", "marketing"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: X, LinkedIn and Mastodon schedules with ICS export.",
            "image_ref": _image("social-media-scheduler", "1.0.0"),
            "input_schema": _input(
                "Schedule posts",
                "Posts, platforms and the scheduling window.",
                {
                    **_SOCIAL_PROPS,
                    "platforms": {
                        **_SOCIAL_PROPS["platforms"],
                        "description": "Where to publish. Character limits: X 280, "
                        "LinkedIn 3000, Mastodon 500.",
                        "items": {"type": "string", "enum": _SOCIAL_PLATFORMS_V1},
                    },
                },
                ["posts", "platforms", "start_date"],
            ),
            "output_schema": _SOCIAL_OUTPUT,
            "example_input": {
                "posts": _SOCIAL_POSTS,
                "platforms": ["x", "linkedin"],
                "start_date": "2024-11-04",
                "days": 7,
            },
            "memory_mb": 256,
            "cpus": "0.25",
            "timeout_seconds": 60,
            "price": "0.05",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Add Bluesky and Instagram captions and a CSV export for bulk-upload "
            "tools.",
            "image_ref": _image("social-media-scheduler", "1.1.0"),
            "input_schema": _input(
                "Schedule posts",
                "Posts, platforms and the scheduling window.",
                _SOCIAL_PROPS,
                ["posts", "platforms", "start_date"],
            ),
            "output_schema": _SOCIAL_OUTPUT,
            "example_input": {
                "posts": _SOCIAL_POSTS,
                "platforms": ["x", "linkedin", "bluesky"],
                "start_date": "2024-11-04",
                "days": 7,
                "posts_per_day": 1,
                "timezone": "Europe/Berlin",
                "quiet_hours_start": "21:00",
                "quiet_hours_end": "08:00",
            },
            "memory_mb": 256,
            "cpus": "0.25",
            "timeout_seconds": 60,
            "price": "0.05",
            "currency": "USDC",
        },
    ],
}

# --- 8. Weather Alerts -----------------------------------------------------------------------

_WEATHER_METRICS = [
    "temperature_c",
    "wind_gust_kmh",
    "precipitation_mm",
    "snowfall_cm",
    "uv_index",
    "humidity_pct",
]
_WEATHER_PROPS = {
    "location_name": _p(
        "string",
        "Location",
        "Name used in alert messages, e.g. 'Warehouse 3, Rotterdam'.",
        minLength=1,
        maxLength=120,
    ),
    "forecast": _array(
        "Hourly forecast",
        "Hourly forecast points, e.g. from an Open-Meteo or national weather service export. "
        "Missing metrics are skipped.",
        _obj(
            "Forecast hour",
            "Forecast values for one hour.",
            {
                "time": _p("string", "Time", "Start of the hour.", format="date-time"),
                "temperature_c": _p("number", "Temperature (C)", "Air temperature."),
                "wind_gust_kmh": _p("number", "Wind gusts (km/h)", "Gust speed.", minimum=0),
                "precipitation_mm": _p("number", "Rain (mm)", "Precipitation.", minimum=0),
                "snowfall_cm": _p("number", "Snow (cm)", "Snowfall.", minimum=0),
                "uv_index": _p("number", "UV index", "UV index.", minimum=0),
                "humidity_pct": _p(
                    "number", "Humidity (%)", "Relative humidity.", minimum=0, maximum=100
                ),
            },
            ["time"],
        ),
        minItems=1,
        maxItems=384,
    ),
    "rules": _array(
        "Alert rules",
        "Conditions that raise an alert when they hold for long enough.",
        _obj(
            "Rule",
            "Raise an alert when metric <operator> threshold for min_hours in a row.",
            {
                "label": _p("string", "Label", "Alert name, e.g. 'Frost'.", maxLength=60),
                "metric": _p("string", "Metric", "Forecast value to test.", enum=_WEATHER_METRICS),
                "operator": _p("string", "Operator", "Comparison.", enum=[">", ">=", "<", "<="]),
                "threshold": _p("number", "Threshold", "Value to compare against."),
                "min_hours": _p(
                    "integer",
                    "Minimum duration (hours)",
                    "Consecutive hours the condition must hold.",
                    minimum=1,
                    maximum=48,
                    default=1,
                ),
            },
            ["label", "metric", "operator", "threshold"],
        ),
        minItems=1,
        maxItems=20,
    ),
}
_WEATHER_OUTPUT = _output(
    "Weather alerts",
    "Alerts raised by the rules over the forecast window.",
    {
        "alerts": _array(
            "Alerts",
            "Alert periods in chronological order.",
            _obj(
                "Alert",
                "One continuous period during which a rule holds.",
                {
                    "label": _p("string", "Label", "Rule label."),
                    "metric": _p("string", "Metric", "Metric tested."),
                    "start": _p("string", "Start", "First hour of the period.", format="date-time"),
                    "end": _p("string", "End", "End of the last hour.", format="date-time"),
                    "peak_value": _p("number", "Peak", "Most extreme value in the period."),
                    "message": _p("string", "Message", "Human-readable alert text."),
                },
                ["label", "metric", "start", "end", "peak_value", "message"],
                closed=False,
            ),
        ),
        "hours_checked": _p("integer", "Hours checked", "Forecast hours evaluated.", minimum=0),
    },
    ["alerts", "hours_checked"],
)
_WEATHER_EXAMPLE = {
    "location_name": "Greenhouse 2, Utrecht",
    "forecast": [
        {"time": "2024-11-20T22:00:00Z", "temperature_c": 1.2, "wind_gust_kmh": 18},
        {"time": "2024-11-20T23:00:00Z", "temperature_c": 0.1, "wind_gust_kmh": 15},
        {"time": "2024-11-21T00:00:00Z", "temperature_c": -0.8, "wind_gust_kmh": 12},
        {"time": "2024-11-21T01:00:00Z", "temperature_c": -1.5, "wind_gust_kmh": 10},
        {"time": "2024-11-21T02:00:00Z", "temperature_c": -1.9, "wind_gust_kmh": 9},
        {"time": "2024-11-21T03:00:00Z", "temperature_c": -1.1, "wind_gust_kmh": 11},
    ],
    "rules": [
        {
            "label": "Frost",
            "metric": "temperature_c",
            "operator": "<",
            "threshold": 0,
            "min_hours": 2,
        }
    ],
}

WEATHER_ALERTS = {
    "slug": "weather-alerts",
    "name": "Weather Alerts",
    "summary": "Checks an hourly forecast against your threshold rules (frost, gusts, heavy "
    "rain, UV) and returns alert periods.",
    "description": _md(
        """
        Define rules such as "temperature below 0 C for 2 hours" or "gusts above 70 km/h"
        and pass an hourly forecast for your site; the agent returns every period in which
        a rule holds, with its start, end and peak value and a ready-to-send message.

        It suits scheduled checks for greenhouses, construction sites, events and delivery
        planning: run it from the Task Automation agent after downloading the forecast.

        **What it does**

        - Evaluates up to 20 rules over up to 16 days of hourly data
        - Merges consecutive matching hours into one alert period, across midnight
        - Reports the most extreme value reached during each period

        **Limits**

        - Uses the forecast you provide; it does not download forecasts or issue
          official warnings
        - Metric units only (C, km/h, mm, cm)
        """
    ),
    "category": "automation",
    "tags": ["weather", "alerts", "monitoring"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: threshold rules over hourly forecasts.",
            "image_ref": _image("weather-alerts", "1.0.0"),
            "input_schema": _input(
                "Check a forecast",
                "The forecast and the alert rules.",
                _WEATHER_PROPS,
                ["forecast", "rules"],
            ),
            "output_schema": _WEATHER_OUTPUT,
            "example_input": _WEATHER_EXAMPLE,
            "memory_mb": 128,
            "cpus": "0.25",
            "timeout_seconds": 30,
            "price": "0.05",
            "currency": "USDC",
        },
        {
            "version": "1.0.1",
            "changelog": "Fix: alert periods crossing midnight were split in two.",
            "image_ref": _image("weather-alerts", "1.0.1"),
            "input_schema": _input(
                "Check a forecast",
                "The forecast and the alert rules.",
                _WEATHER_PROPS,
                ["forecast", "rules"],
            ),
            "output_schema": _WEATHER_OUTPUT,
            "example_input": _WEATHER_EXAMPLE,
            "memory_mb": 128,
            "cpus": "0.25",
            "timeout_seconds": 30,
            "price": "0.05",
            "currency": "USDC",
        },
    ],
}

# --- 9. Stock Monitor ------------------------------------------------------------------------

_STOCK_PROPS = {
    "symbol": _p(
        "string",
        "Ticker",
        "Ticker symbol, used in messages, e.g. AAPL or BRK.B.",
        pattern="^[A-Z][A-Z0-9.]{0,9}$",
    ),
    "bars": _array(
        "Daily bars",
        "End-of-day price history, oldest first, e.g. converted from your broker's CSV export.",
        _obj(
            "Bar",
            "One trading day.",
            {
                "date": _p("string", "Date", "Trading day.", format="date"),
                "open": _p("number", "Open", "Opening price.", exclusiveMinimum=0),
                "high": _p("number", "High", "Daily high.", exclusiveMinimum=0),
                "low": _p("number", "Low", "Daily low.", exclusiveMinimum=0),
                "close": _p("number", "Close", "Closing price.", exclusiveMinimum=0),
                "volume": _p("integer", "Volume", "Shares traded.", minimum=0),
            },
            ["date", "close"],
        ),
        minItems=2,
        maxItems=5000,
    ),
    "price_above": _p(
        "number", "Alert above", "Alert when the close is above this price.", exclusiveMinimum=0
    ),
    "price_below": _p(
        "number", "Alert below", "Alert when the close is below this price.", exclusiveMinimum=0
    ),
    "daily_move_pct": _p(
        "number",
        "Daily move alert (%)",
        "Alert when the close moves more than this percentage from the previous close.",
        exclusiveMinimum=0,
        maximum=100,
        default=5,
    ),
    "volume_spike_multiple": _p(
        "number",
        "Volume spike (x average)",
        "Alert when volume exceeds this multiple of its 20-day average.",
        minimum=1,
        maximum=50,
        default=3,
    ),
    "sma_fast": _p(
        "integer",
        "Fast moving average (days)",
        "Window of the fast simple moving average.",
        minimum=2,
        maximum=100,
        default=20,
    ),
    "sma_slow": _p(
        "integer",
        "Slow moving average (days)",
        "Window of the slow simple moving average; a cross of the two raises an alert.",
        minimum=3,
        maximum=250,
        default=50,
    ),
}
_STOCK_OUTPUT = _output(
    "Stock check",
    "Latest figures and the alerts triggered on the last bar.",
    {
        "symbol": _p("string", "Ticker", "Ticker symbol."),
        "as_of": _p("string", "As of", "Date of the last bar.", format="date"),
        "last_close": _p("number", "Last close", "Close of the last bar."),
        "change_pct": _p(["number", "null"], "Change (%)", "Change from the previous close."),
        "sma_fast": _p(["number", "null"], "Fast SMA", "Null if there are too few bars."),
        "sma_slow": _p(["number", "null"], "Slow SMA", "Null if there are too few bars."),
        "high_52w": _p("number", "52-week high", "Highest high in the last 252 bars."),
        "low_52w": _p("number", "52-week low", "Lowest low in the last 252 bars."),
        "alerts": _array(
            "Alerts",
            "Rules triggered on the last bar.",
            _obj(
                "Alert",
                "One triggered rule.",
                {
                    "rule": _p(
                        "string",
                        "Rule",
                        "Which rule fired.",
                        enum=[
                            "price_above",
                            "price_below",
                            "daily_move",
                            "volume_spike",
                            "sma_cross_up",
                            "sma_cross_down",
                        ],
                    ),
                    "message": _p("string", "Message", "Human-readable alert text."),
                },
                ["rule", "message"],
                closed=False,
            ),
        ),
    },
    ["symbol", "as_of", "last_close", "change_pct", "alerts"],
)
_STOCK_BARS = [
    {
        "date": "2024-10-01",
        "open": 101.2,
        "high": 102.9,
        "low": 100.4,
        "close": 102.1,
        "volume": 4_100_000,
    },
    {
        "date": "2024-10-02",
        "open": 102.0,
        "high": 102.5,
        "low": 99.8,
        "close": 100.3,
        "volume": 3_900_000,
    },
    {
        "date": "2024-10-03",
        "open": 100.1,
        "high": 101.0,
        "low": 98.7,
        "close": 99.2,
        "volume": 4_400_000,
    },
    {
        "date": "2024-10-04",
        "open": 99.5,
        "high": 103.8,
        "low": 99.1,
        "close": 103.5,
        "volume": 6_200_000,
    },
    {
        "date": "2024-10-07",
        "open": 103.4,
        "high": 104.6,
        "low": 102.8,
        "close": 104.2,
        "volume": 5_100_000,
    },
    {
        "date": "2024-10-08",
        "open": 104.0,
        "high": 110.3,
        "low": 103.9,
        "close": 109.8,
        "volume": 14_800_000,
    },
]

STOCK_MONITOR = {
    "slug": "stock-monitor",
    "name": "Stock Monitor",
    "summary": "Checks end-of-day price history against price, daily-move, volume-spike and "
    "moving-average crossover alerts.",
    "description": _md(
        """
        Pass a ticker's daily bars (oldest first) and your alert levels; the agent reports
        the latest close, the daily change, fast and slow simple moving averages, the
        52-week range, and which alerts fired on the most recent bar: price above or below
        a level, an unusually large daily move, a volume spike against the 20-day average,
        or a moving-average crossover.

        Run it after the close from the Task Automation agent to get a daily watchlist
        report.

        **What it does**

        - Evaluates six alert types on the latest bar
        - Computes SMAs with windows you choose (default 20 and 50 days)
        - Accepts up to 5,000 bars (about 20 years of trading days)

        **Limits**

        - End-of-day data only; no intraday or real-time quotes
        - Informational only, not investment advice
        """
    ),
    "category": "general",
    "tags": ["stocks", "alerts", "finance"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: price level, daily move and volume spike alerts.",
            "image_ref": _image("stock-monitor", "1.0.0"),
            "input_schema": _input(
                "Check a stock",
                "Price history and alert levels.",
                _omit(_STOCK_PROPS, "sma_fast", "sma_slow"),
                ["symbol", "bars"],
            ),
            "output_schema": _STOCK_OUTPUT,
            "example_input": {"symbol": "ACME", "bars": _STOCK_BARS, "price_above": 108},
            "memory_mb": 256,
            "cpus": "0.5",
            "timeout_seconds": 60,
            "price": "0.10",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Moving-average crossover alerts with configurable windows.",
            "image_ref": _image("stock-monitor", "1.1.0"),
            "input_schema": _input(
                "Check a stock",
                "Price history, alert levels and moving-average windows.",
                _STOCK_PROPS,
                ["symbol", "bars"],
            ),
            "output_schema": _STOCK_OUTPUT,
            "example_input": {
                "symbol": "ACME",
                "bars": _STOCK_BARS,
                "price_above": 108,
                "daily_move_pct": 4,
                "sma_fast": 3,
                "sma_slow": 5,
            },
            "memory_mb": 256,
            "cpus": "0.5",
            "timeout_seconds": 60,
            "price": "0.10",
            "currency": "USDC",
        },
    ],
}

# --- 10. PDF Extractor -----------------------------------------------------------------------

_PDF_PROPS = {
    "pdf_base64": _p(
        "string",
        "PDF file",
        "The PDF (at most 20 MB, 300 pages) encoded as base64.",
        minLength=16,
        maxLength=28_000_000,
        pattern=_BASE64_PATTERN,
        contentEncoding="base64",
        contentMediaType="application/pdf",
    ),
    "extract": _array(
        "Extract",
        "What to extract.",
        {"type": "string", "enum": ["text", "tables", "metadata"]},
        minItems=1,
        uniqueItems=True,
        default=["text", "metadata"],
    ),
    "pages": _p(
        "string",
        "Pages",
        "Page ranges such as 1-3,7. Leave empty for all pages.",
        pattern="^[1-9][0-9]*(-[1-9][0-9]*)?(,[1-9][0-9]*(-[1-9][0-9]*)?)*$",
    ),
    "text_format": _p(
        "string",
        "Text format",
        "markdown keeps headings and lists; plain returns text only.",
        enum=["markdown", "plain"],
        default="markdown",
    ),
    "ocr": _p(
        "boolean",
        "OCR scanned pages",
        "Run OCR on pages without a text layer (English and German; about 2 s per page).",
        default=False,
    ),
}
_PDF_OUTPUT = _output(
    "Extracted content",
    "Text, tables and metadata from the PDF.",
    {
        "page_count": _p("integer", "Pages", "Pages in the document.", minimum=0),
        "metadata": _obj(
            "Metadata",
            "Document information dictionary, when requested.",
            {
                "title": _p(["string", "null"], "Title", "Document title."),
                "author": _p(["string", "null"], "Author", "Document author."),
                "created": _p(["string", "null"], "Created", "Creation date, ISO 8601."),
                "producer": _p(["string", "null"], "Producer", "Software that made the PDF."),
            },
            closed=False,
        ),
        "pages": _array(
            "Page text",
            "Text of each extracted page.",
            _obj(
                "Page",
                "Text of one page.",
                {
                    "page": _p("integer", "Page", "Page number, from 1.", minimum=1),
                    "text": _p("string", "Text", "Extracted text."),
                    "ocr": _p("boolean", "OCR used", "True if the text came from OCR."),
                },
                ["page", "text"],
                closed=False,
            ),
        ),
        "tables": _array(
            "Tables",
            "Tables detected on the extracted pages.",
            _obj(
                "Table",
                "One table as rows of cell strings; the first row is usually the header.",
                {
                    "page": _p("integer", "Page", "Page number.", minimum=1),
                    "rows": _array(
                        "Rows",
                        "Table rows.",
                        {"type": "array", "items": {"type": "string"}},
                    ),
                },
                ["page", "rows"],
                closed=False,
            ),
        ),
        "warnings": _array(
            "Warnings",
            "e.g. pages with no text layer when OCR is off.",
            {"type": "string"},
        ),
    },
    ["page_count", "pages", "warnings"],
)

PDF_EXTRACTOR = {
    "slug": "pdf-extractor",
    "name": "PDF Extractor",
    "summary": "Extracts text, tables and metadata from a PDF, with optional OCR for scanned "
    "pages.",
    "description": _md(
        """
        Upload a PDF as base64 and choose what you need: page text (as Markdown with
        headings and lists kept, or plain text), tables as rows of cells, and document
        metadata. Page ranges let you pull one section out of a long report without paying
        for the time to parse the rest.

        Scanned documents have no text layer; switch on OCR to read them (English and
        German, about two seconds per page). Pages that still yield no text are listed in
        the warnings.

        **What it does**

        - Extracts text in reading order from multi-column layouts
        - Detects ruled and whitespace-aligned tables
        - Handles files up to 20 MB and 300 pages

        **Limits**

        - Password-protected PDFs are rejected
        - Handwriting and images inside the PDF are not described (use Image Captioner)
        """
    ),
    "category": "general",
    "tags": ["pdf", "documents", "ocr"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: text and metadata extraction.",
            "image_ref": _image("pdf-extractor", "1.0.0"),
            "input_schema": _input(
                "Extract from a PDF",
                "The PDF and what to extract.",
                {
                    **_omit(_PDF_PROPS, "ocr"),
                    "extract": {
                        **_PDF_PROPS["extract"],
                        "items": {"type": "string", "enum": ["text", "metadata"]},
                    },
                },
                ["pdf_base64"],
            ),
            "output_schema": _PDF_OUTPUT,
            "example_input": {"pdf_base64": _EXAMPLE_PDF_BASE64},
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 300,
            "price": "0.30",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Table extraction.",
            "image_ref": _image("pdf-extractor", "1.1.0"),
            "input_schema": _input(
                "Extract from a PDF",
                "The PDF and what to extract.",
                _omit(_PDF_PROPS, "ocr"),
                ["pdf_base64"],
            ),
            "output_schema": _PDF_OUTPUT,
            "example_input": {
                "pdf_base64": _EXAMPLE_PDF_BASE64,
                "extract": ["text", "tables"],
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 300,
            "price": "0.30",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Optional OCR for scanned pages (English and German).",
            "image_ref": _image("pdf-extractor", "1.2.0"),
            "input_schema": _input(
                "Extract from a PDF",
                "The PDF, what to extract and whether to OCR scanned pages.",
                _PDF_PROPS,
                ["pdf_base64"],
            ),
            "output_schema": _PDF_OUTPUT,
            "example_input": {
                "pdf_base64": _EXAMPLE_PDF_BASE64,
                "extract": ["text", "tables", "metadata"],
                "pages": "1",
                "ocr": False,
            },
            "memory_mb": 2048,
            "cpus": "1.0",
            "timeout_seconds": 600,
            "price": "0.30",
            "currency": "USDC",
        },
    ],
}

# --- 11. Task Automation ---------------------------------------------------------------------

_TASK_RECORDS = _array(
    "Records",
    "The data to process: a list of JSON objects (e.g. rows exported from a form, CRM or "
    "another agent's output).",
    {"type": "object"},
    minItems=0,
    maxItems=10_000,
)
_TASK_STEP_FIELDS = {
    "field": _p(
        "string", "Field", "Field the step works on (dot.path for nested fields).", maxLength=100
    ),
    "operator": _p(
        "string",
        "Operator",
        "Comparison for filter steps.",
        enum=["eq", "ne", "gt", "gte", "lt", "lte", "contains", "exists"],
    ),
    "value": _p(
        ["string", "number", "boolean", "null"],
        "Value",
        "Value to compare with (filter) or the count (limit).",
    ),
    "descending": _p("boolean", "Descending", "Sort order for sort steps.", default=False),
    "fields": _array(
        "Fields", "Fields to keep (pick) or to dedupe on.", {"type": "string"}, maxItems=50
    ),
}
_TASK_OPS_V1 = ["filter", "sort", "limit", "pick"]
_TASK_OPS = [*_TASK_OPS_V1, "rename", "set", "dedupe", "group_count"]
_TASK_STEP_V2 = _obj(
    "Step",
    "One operation; which other fields apply depends on op.",
    {
        "op": _p(
            "string",
            "Operation",
            "filter, sort, limit, pick (keep fields), rename (field -> to), set (field = "
            "template), dedupe (on fields), group_count (count records per field value).",
            enum=_TASK_OPS,
        ),
        **_TASK_STEP_FIELDS,
        "to": _p("string", "New name", "Target field name for rename steps.", maxLength=100),
        "template": _p(
            "string",
            "Template",
            "For set steps: text with {field} placeholders, e.g. '{first} {last}'.",
            maxLength=1000,
        ),
    },
    ["op"],
)
_TASK_STEP_V1 = _obj(
    "Step",
    "One operation; which other fields apply depends on type.",
    {
        "type": _p("string", "Operation", "filter, sort, limit or pick.", enum=_TASK_OPS_V1),
        **_TASK_STEP_FIELDS,
    },
    ["type"],
)
_TASK_OUTPUT = _output(
    "Pipeline result",
    "The processed records and what each step did.",
    {
        "records": _array("Records", "Records after the last step.", {"type": "object"}),
        "steps": _array(
            "Step report",
            "Record counts before and after each step.",
            _obj(
                "Step report",
                "What one step did.",
                {
                    "op": _p("string", "Operation", "Step operation."),
                    "records_in": _p("integer", "In", "Records before the step.", minimum=0),
                    "records_out": _p("integer", "Out", "Records after the step.", minimum=0),
                },
                ["op", "records_in", "records_out"],
                closed=False,
            ),
        ),
        "errors": _array(
            "Errors",
            "Records skipped by a step, e.g. a missing field in a sort.",
            {"type": "string"},
        ),
    },
    ["records", "steps", "errors"],
)
_TASK_EXAMPLE_RECORDS = [
    {"email": "ana@example.com", "first": "Ana", "last": "Silva", "plan": "pro", "seats": 12},
    {"email": "li@example.com", "first": "Li", "last": "Wei", "plan": "free", "seats": 1},
    {"email": "ana@example.com", "first": "Ana", "last": "Silva", "plan": "pro", "seats": 12},
    {"email": "tom@example.com", "first": "Tom", "last": "Berg", "plan": "pro", "seats": 4},
]

TASK_AUTOMATION = {
    "slug": "task-automation",
    "name": "Task Automation",
    "summary": "Runs a declarative pipeline (filter, sort, dedupe, rename, template, group "
    "count) over a list of JSON records.",
    "description": _md(
        """
        A small, predictable workflow engine for the glue work between tools: give it a
        list of JSON records and an ordered list of steps, and it returns the transformed
        records plus a per-step report of how many records went in and out. Typical uses
        are cleaning a form export, building a mailing list, or reshaping one agent's
        output into another agent's input.

        Steps are plain data, so a pipeline can be saved, reviewed and re-run with the same
        result every time. There is no code execution and no network access.

        **What it does**

        - Filters with eq/ne/gt/gte/lt/lte/contains/exists, sorts, limits and keeps fields
        - Renames fields, sets fields from {placeholder} templates, removes duplicates
        - Counts records per value (group_count) for quick summaries

        **Limits**

        - Up to 10,000 records and 50 steps per run
        - No loops, branches or calls to other agents; chain runs for multi-stage jobs
        """
    ),
    "category": "automation",
    "tags": ["workflow", "etl", "json"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: filter, sort, limit and pick steps.",
            "image_ref": _image("task-automation", "1.0.0"),
            "input_schema": _input(
                "Run a pipeline",
                "Records and the steps to apply, in order.",
                {
                    "records": _TASK_RECORDS,
                    "steps": _array(
                        "Steps",
                        "Operations applied in order.",
                        _TASK_STEP_V1,
                        minItems=1,
                        maxItems=50,
                    ),
                },
                ["records", "steps"],
            ),
            "output_schema": _TASK_OUTPUT,
            "example_input": {
                "records": _TASK_EXAMPLE_RECORDS,
                "steps": [
                    {"type": "filter", "field": "plan", "operator": "eq", "value": "pro"},
                    {"type": "sort", "field": "seats", "descending": True},
                ],
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 120,
            "price": "0.05",
            "currency": "USDC",
        },
        {
            "version": "2.0.0",
            "changelog": "Breaking: step 'type' renamed to 'op'. New rename, set, dedupe and "
            "group_count steps.",
            "image_ref": _image("task-automation", "2.0.0"),
            "input_schema": _input(
                "Run a pipeline",
                "Records and the steps to apply, in order.",
                {
                    "records": _TASK_RECORDS,
                    "steps": _array(
                        "Steps",
                        "Operations applied in order.",
                        _TASK_STEP_V2,
                        minItems=1,
                        maxItems=50,
                    ),
                },
                ["records", "steps"],
            ),
            "output_schema": _TASK_OUTPUT,
            "example_input": {
                "records": _TASK_EXAMPLE_RECORDS,
                "steps": [
                    {"op": "dedupe", "fields": ["email"]},
                    {"op": "filter", "field": "plan", "operator": "eq", "value": "pro"},
                    {"op": "set", "field": "name", "template": "{first} {last}"},
                    {"op": "pick", "fields": ["email", "name", "seats"]},
                    {"op": "sort", "field": "seats", "descending": True},
                ],
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 120,
            "price": "0.05",
            "currency": "USDC",
        },
    ],
}

# --- 12. Knowledge Q&A -----------------------------------------------------------------------

_QA_PROPS = {
    "question": _p("string", "Question", "What you want to know.", minLength=3, maxLength=2000),
    "documents": _array(
        "Documents",
        "The knowledge base to answer from: policies, manuals, notes. Only these documents "
        "are used.",
        _obj(
            "Document",
            "One source document.",
            {
                "id": _p(
                    "string",
                    "ID",
                    "Your identifier, echoed back in citations.",
                    pattern="^[A-Za-z0-9_.-]{1,64}$",
                ),
                "title": _p("string", "Title", "Document title.", maxLength=200),
                "text": _p(
                    "string",
                    "Text",
                    "Plain text or Markdown content.",
                    minLength=1,
                    maxLength=200_000,
                ),
            },
            ["id", "text"],
        ),
        minItems=1,
        maxItems=50,
    ),
    "max_answer_words": _p(
        "integer",
        "Maximum answer length (words)",
        "Upper bound on the answer's length.",
        minimum=20,
        maximum=500,
        default=150,
    ),
    "min_confidence": _p(
        "number",
        "Minimum confidence",
        "Below this confidence the agent answers that the documents do not say.",
        minimum=0,
        maximum=1,
        default=0.35,
    ),
}
_QA_OUTPUT = _output(
    "Answer",
    "An answer grounded in the documents, with citations.",
    {
        "answer": _p("string", "Answer", "The answer, or a statement that it was not found."),
        "answerable": _p(
            "boolean", "Answer found", "False when the documents do not contain the answer."
        ),
        "confidence": _p("number", "Confidence", "From 0 to 1.", minimum=0, maximum=1),
        "citations": _array(
            "Citations",
            "Passages that support the answer.",
            _obj(
                "Citation",
                "One supporting passage.",
                {
                    "document_id": _p("string", "Document", "ID of the cited document."),
                    "quote": _p("string", "Quote", "The supporting passage, verbatim."),
                },
                ["document_id", "quote"],
                closed=False,
            ),
        ),
    },
    ["answer", "answerable", "confidence", "citations"],
)
_QA_DOCUMENTS = [
    {
        "id": "travel-policy",
        "title": "Travel and expenses policy 2024",
        "text": "Economy class is required for flights under 6 hours. Hotel costs are "
        "reimbursed up to 180 EUR per night in capital cities and 130 EUR elsewhere. "
        "Receipts must be submitted within 30 days of the trip.",
    },
    {
        "id": "remote-work",
        "title": "Remote work guidelines",
        "text": "Employees may work remotely up to 3 days per week. Working from abroad "
        "requires HR approval and is limited to 20 days per year.",
    },
]

KNOWLEDGE_QA = {
    "slug": "knowledge-qa",
    "name": "Knowledge Q&A",
    "summary": "Answers a question from the documents you provide, quotes its sources, and "
    "says so when the answer is not there.",
    "description": _md(
        """
        Provide up to 50 documents (policies, manuals, meeting notes) and a question. The
        agent retrieves the relevant passages, writes a short answer from them alone, and
        cites each supporting passage verbatim with the document id you supplied, so every
        claim can be checked.

        When the documents do not contain the answer, or the supporting evidence is weak,
        it says so instead of guessing; the confidence threshold for that is adjustable.

        **What it does**

        - Hybrid retrieval (BM25 and embeddings) over the supplied documents
        - Answers of up to 500 words with verbatim quotes as citations
        - Abstains below the confidence threshold you set

        **Limits**

        - No general world knowledge: answers come only from your documents
        - Documents are not stored between runs; send them with every question
        """
    ),
    "category": "ai-ml",
    "tags": ["rag", "question-answering", "nlp"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: answers with document-level citations.",
            "image_ref": _image("knowledge-qa", "1.0.0"),
            "input_schema": _input(
                "Ask your documents",
                "The question and the documents to answer from.",
                _omit(_QA_PROPS, "min_confidence"),
                ["question", "documents"],
            ),
            "output_schema": _QA_OUTPUT,
            "example_input": {
                "question": "What is the hotel limit in capital cities?",
                "documents": _QA_DOCUMENTS,
            },
            "memory_mb": 4096,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "0.40",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Citations now quote the supporting passage verbatim.",
            "image_ref": _image("knowledge-qa", "1.1.0"),
            "input_schema": _input(
                "Ask your documents",
                "The question and the documents to answer from.",
                _omit(_QA_PROPS, "min_confidence"),
                ["question", "documents"],
            ),
            "output_schema": _QA_OUTPUT,
            "example_input": {
                "question": "What is the hotel limit in capital cities?",
                "documents": _QA_DOCUMENTS,
                "max_answer_words": 60,
            },
            "memory_mb": 4096,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "0.40",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Abstain below a configurable confidence instead of guessing.",
            "image_ref": _image("knowledge-qa", "1.2.0"),
            "input_schema": _input(
                "Ask your documents",
                "The question, the documents and when to abstain.",
                _QA_PROPS,
                ["question", "documents"],
            ),
            "output_schema": _QA_OUTPUT,
            "example_input": {
                "question": "How many days per year can I work from abroad?",
                "documents": _QA_DOCUMENTS,
                "max_answer_words": 60,
                "min_confidence": 0.4,
            },
            "memory_mb": 4096,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "0.45",
            "currency": "USDC",
        },
    ],
}


# ============================================================================================
# Crypto agents (8): category "crypto"
# ============================================================================================

_PAPER_PRICES = _array(
    "Paper prices",
    "Paper mode only: mid prices replayed one per tick, oldest first. Leave empty to replay "
    "the recorded 24-hour sample of 1-minute mids bundled with the image.",
    {"type": "number", "exclusiveMinimum": 0},
    minItems=2,
    maxItems=20_000,
)
_MAX_POSITION_PCT = _p(
    "number",
    "Maximum position (% of portfolio)",
    "Largest position the agent may hold, as a percentage of account equity. Orders that "
    "would exceed it are reduced.",
    exclusiveMinimum=0,
    maximum=25,
    default=5,
)
_STOP_LOSS_PCT = _p(
    "number",
    "Stop-loss (%)",
    "Close the position when price moves this far against the entry. Required.",
    minimum=0.1,
    maximum=50,
)
_TAKE_PROFIT_PCT = _p(
    "number",
    "Take-profit (%)",
    "Close the position when price moves this far in your favour. Optional.",
    minimum=0.1,
    maximum=500,
)
_FILL = _obj(
    "Fill",
    "One executed (or simulated) fill.",
    {
        "time": _p("string", "Time", "Fill time (replay time in paper mode).", format="date-time"),
        "side": _p("string", "Side", "Buy or sell.", enum=["buy", "sell"]),
        "price": _p("number", "Price", "Fill price.", exclusiveMinimum=0),
        "size": _p("number", "Size", "Filled size in base units.", exclusiveMinimum=0),
        "fee_usd": _p("number", "Fee (USD)", "Exchange fee (negative for rebates)."),
    },
    ["time", "side", "price", "size", "fee_usd"],
    closed=False,
)

# --- 13. Hyperliquid Market Maker & Trading Bot --------------------------------------------

_HL_PROPS = {
    "mode": _p(
        "string",
        "Mode",
        "paper simulates fills against replayed prices and never touches an exchange. live "
        "places real orders with the Hyperliquid API wallet stored in your secrets.",
        enum=["paper", "live"],
        default="paper",
    ),
    "network": _p(
        "string",
        "Network",
        "Live mode only: Hyperliquid testnet (test funds) or mainnet.",
        enum=["testnet", "mainnet"],
        default="testnet",
    ),
    "symbol": _p(
        "string",
        "Market",
        "Hyperliquid perpetual, by coin name (BTC, ETH, SOL, HYPE...).",
        pattern="^[A-Z0-9]{2,12}$",
        default="ETH",
    ),
    "strategy": _p(
        "string",
        "Strategy",
        "market_making: quotes both sides around the mid and skews quotes to shed inventory. "
        "grid: resting buy and sell orders at fixed steps around the start price.",
        enum=["market_making", "grid"],
        default="market_making",
    ),
    "spread_bps": _p(
        "number",
        "Spread (bps)",
        "Distance of the first quote from the mid, in basis points (1 bp = 0.01%). "
        "For grid, the step between levels.",
        minimum=1,
        maximum=500,
        default=10,
    ),
    "order_levels": _p(
        "integer",
        "Levels per side",
        "Number of resting orders on each side.",
        minimum=1,
        maximum=10,
        default=3,
    ),
    "level_size_usd": _p(
        "number",
        "Order size (USD)",
        "Notional of each order. Hyperliquid's minimum order value is 10 USD.",
        minimum=10,
        maximum=100_000,
        default=100,
    ),
    "max_position_pct": _MAX_POSITION_PCT,
    "leverage": _p(
        "integer",
        "Leverage",
        "Cross-margin leverage set before trading; capped at 10x by this agent.",
        minimum=1,
        maximum=10,
        default=1,
    ),
    "stop_loss_pct": _STOP_LOSS_PCT,
    "take_profit_pct": _TAKE_PROFIT_PCT,
    "duration_minutes": _p(
        "integer",
        "Duration (minutes)",
        "How long to run before cancelling orders. In paper mode this is replayed market "
        "time, which runs faster than real time.",
        minimum=1,
        maximum=25,
        default=10,
    ),
    "flatten_on_exit": _p(
        "boolean",
        "Close position at the end",
        "Cancel all orders and close any position with a reduce-only order when the run ends.",
        default=True,
    ),
    "paper_prices": _PAPER_PRICES,
}
_HL_REQUIRED = ["mode", "symbol", "max_position_pct", "stop_loss_pct"]
_HL_V1_PROPS = {
    **_omit(_HL_PROPS, "network", "strategy"),
    "mode": {
        **_HL_PROPS["mode"],
        "description": "Only paper trading is available in this version: fills are simulated "
        "against replayed prices.",
        "enum": ["paper"],
    },
}
_HL_OUTPUT_PROPS = {
    "mode": _p("string", "Mode", "paper or live.", enum=["paper", "live"]),
    "network": _p(["string", "null"], "Network", "testnet or mainnet; null in paper mode."),
    "symbol": _p("string", "Market", "Traded market."),
    "orders_placed": _p("integer", "Orders placed", "Orders sent (or simulated).", minimum=0),
    "fills": _array("Fills", "Fills in chronological order.", _FILL),
    "realized_pnl_usd": _p("number", "Realized PnL (USD)", "After fees and rebates."),
    "unrealized_pnl_usd": _p("number", "Unrealized PnL (USD)", "Open position at the last mid."),
    "final_position": _p("number", "Final position", "Signed size in base units at the end."),
    "stopped_reason": _p(
        "string",
        "Stopped because",
        "Why the run ended.",
        enum=["duration_elapsed", "stop_loss", "take_profit", "risk_limit", "error"],
    ),
    "risk_events": _array(
        "Risk events",
        "e.g. quotes reduced at the position limit, stop-loss triggered.",
        {"type": "string"},
    ),
}
_HL_OUTPUT_V12_PROPS = {
    **_HL_OUTPUT_PROPS,
    "max_drawdown_pct": _p(
        "number", "Max drawdown (%)", "Largest peak-to-trough equity drop.", minimum=0
    ),
    "rejected_orders": _p(
        "integer",
        "Rejected orders",
        "Orders rejected by the exchange or by tick/lot-size validation.",
        minimum=0,
    ),
}
_HL_OUTPUT_REQUIRED = [
    "mode",
    "symbol",
    "orders_placed",
    "fills",
    "realized_pnl_usd",
    "final_position",
    "stopped_reason",
]
_HL_PAPER_PRICES = [3412.5, 3413.1, 3411.8, 3409.9, 3410.6, 3414.2, 3416.0, 3413.7, 3412.9]

HYPERLIQUID_MARKET_MAKER = {
    "slug": "hyperliquid-market-maker",
    "name": "Hyperliquid Market Maker & Trading Bot",
    "summary": "Quotes both sides of a Hyperliquid perpetual or runs a grid, with hard "
    "position and stop-loss limits; paper mode by default.",
    "description": _md(
        """
        Runs a market-making or grid strategy on one Hyperliquid perpetual for up to 25
        minutes. In market-making mode it keeps layered bids and asks around the mid price
        and skews them to shed inventory; in grid mode it rests orders at fixed steps
        around the start price. Every order is checked against the market's tick and lot
        size before submission, and the run reports fills, PnL and risk events.

        **Paper mode is the default.** It replays recorded prices (or the series you
        supply) and simulates fills with Hyperliquid's base-tier fees, so you can tune
        spread, levels and limits without risking funds. Live mode needs a Hyperliquid API
        wallet saved in your account secrets; that key can place orders but cannot
        withdraw. Start live runs on testnet.

        **Risk controls**

        - A stop-loss is required; the position is closed with a reduce-only order when
          it triggers
        - Quotes shrink as the position approaches the maximum % of equity you set
        - Leverage is capped at 10x; orders and positions are cancelled and closed at the
          end of the run unless you opt out

        **Limits**

        - One market per run; no cross-market hedging
        - Past paper results do not predict live fills, especially in fast markets;
          nothing here is investment advice
        """
    ),
    "category": "crypto",
    "tags": ["hyperliquid", "market-making", "trading", "perpetuals"],
    "featured": True,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: paper-mode market making with required stop-loss.",
            "image_ref": _image("hyperliquid-market-maker", "1.0.0"),
            "input_schema": _input(
                "Run a Hyperliquid market maker",
                "Market, quoting parameters and risk limits. Paper mode only.",
                _HL_V1_PROPS,
                _HL_REQUIRED,
            ),
            "output_schema": _output(
                "Trading run report",
                "Orders, fills, PnL and risk events of the run.",
                _HL_OUTPUT_PROPS,
                _HL_OUTPUT_REQUIRED,
            ),
            "example_input": {
                "mode": "paper",
                "symbol": "ETH",
                "max_position_pct": 5,
                "stop_loss_pct": 2,
                "paper_prices": _HL_PAPER_PRICES,
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 1800,
            "price": "2.50",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Live mode on testnet and mainnet via API wallet secrets; grid strategy.",
            "image_ref": _image("hyperliquid-market-maker", "1.1.0"),
            "input_schema": _input(
                "Run a Hyperliquid market maker",
                "Market, strategy and risk limits. Runs in paper mode unless you choose live.",
                _HL_PROPS,
                _HL_REQUIRED,
            ),
            "output_schema": _output(
                "Trading run report",
                "Orders, fills, PnL and risk events of the run.",
                _HL_OUTPUT_PROPS,
                _HL_OUTPUT_REQUIRED,
            ),
            "example_input": {
                "mode": "paper",
                "symbol": "ETH",
                "strategy": "market_making",
                "spread_bps": 8,
                "order_levels": 3,
                "level_size_usd": 50,
                "max_position_pct": 5,
                "stop_loss_pct": 2,
                "duration_minutes": 10,
                "paper_prices": _HL_PAPER_PRICES,
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 1800,
            "price": "2.50",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Tick/lot-size validation against exchange metadata; drawdown and "
            "rejected-order reporting.",
            "image_ref": _image("hyperliquid-market-maker", "1.2.0"),
            "input_schema": _input(
                "Run a Hyperliquid market maker",
                "Market, strategy and risk limits. Runs in paper mode unless you choose live.",
                _HL_PROPS,
                _HL_REQUIRED,
            ),
            "output_schema": _output(
                "Trading run report",
                "Orders, fills, PnL, drawdown and risk events of the run.",
                _HL_OUTPUT_V12_PROPS,
                [*_HL_OUTPUT_REQUIRED, "max_drawdown_pct"],
            ),
            "example_input": {
                "mode": "paper",
                "symbol": "ETH",
                "strategy": "market_making",
                "spread_bps": 8,
                "order_levels": 3,
                "level_size_usd": 50,
                "max_position_pct": 5,
                "leverage": 2,
                "stop_loss_pct": 2,
                "take_profit_pct": 3,
                "duration_minutes": 10,
                "flatten_on_exit": True,
                "paper_prices": _HL_PAPER_PRICES,
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 1800,
            "price": "3.00",
            "currency": "USDC",
        },
    ],
}

# --- 14. Aster Perpetual Trading -------------------------------------------------------------

_ASTER_CHAINS = ["bnb", "ethereum", "arbitrum", "solana"]
_ASTER_PROPS = {
    "mode": _p(
        "string",
        "Mode",
        "Only paper trading is available: the order is simulated against replayed prices "
        "and nothing is sent to Aster.",
        enum=["paper"],
        default="paper",
    ),
    "chain": _p(
        "string",
        "Chain",
        "Chain whose Aster deployment (and collateral balance) to use.",
        enum=_ASTER_CHAINS,
        default="bnb",
    ),
    "symbol": _p(
        "string",
        "Market",
        "Aster perpetual symbol, e.g. BTCUSDT or ETHUSDT.",
        pattern="^[A-Z0-9]{2,16}USDT$",
        default="BTCUSDT",
    ),
    "side": _p("string", "Side", "long profits when price rises.", enum=["long", "short"]),
    "order_type": _p(
        "string",
        "Order type",
        "market fills immediately; limit waits for limit_price.",
        enum=["market", "limit"],
        default="market",
    ),
    "limit_price": _p(
        "number", "Limit price", "Required for limit orders (USDT).", exclusiveMinimum=0
    ),
    "hidden": _p(
        "boolean",
        "Hidden order",
        "Limit orders only: keep the order out of the public order book.",
        default=False,
    ),
    "collateral": _p(
        "string",
        "Collateral",
        "Margin asset: USDT, USDF (Aster's yield-bearing stablecoin) or asBNB (liquid-staked "
        "BNB; valued with a haircut).",
        enum=["USDT", "USDF", "asBNB"],
        default="USDT",
    ),
    "leverage": _p(
        "integer",
        "Leverage",
        "Isolated-margin leverage. Aster offers up to 1001x on some markets; this agent caps "
        "it at 100x.",
        minimum=1,
        maximum=100,
        default=3,
    ),
    "max_position_pct": _MAX_POSITION_PCT,
    "stop_loss_pct": {
        **_STOP_LOSS_PCT,
        "description": "Close the position when price moves this far against the entry. "
        "Required, and must trigger before the estimated liquidation price.",
    },
    "take_profit_pct": _TAKE_PROFIT_PCT,
    "paper_prices": _PAPER_PRICES,
}
_ASTER_REQUIRED = ["mode", "chain", "symbol", "side", "max_position_pct", "stop_loss_pct"]
_ASTER_RULES = {
    # A limit order needs its price; a hidden order must be a limit order.
    "allOf": [
        {
            "if": {"properties": {"order_type": {"const": "limit"}}, "required": ["order_type"]},
            "then": {"required": ["limit_price"]},
        },
        {
            "if": {"properties": {"hidden": {"const": True}}, "required": ["hidden"]},
            "then": {"properties": {"order_type": {"const": "limit"}}, "required": ["order_type"]},
        },
    ]
}
_ASTER_V09_PROPS = {
    **_omit(_ASTER_PROPS, "hidden"),
    "chain": {**_ASTER_PROPS["chain"], "enum": ["bnb", "arbitrum"]},
    "collateral": {
        **_ASTER_PROPS["collateral"],
        "description": "Margin asset. Only USDT in this version.",
        "enum": ["USDT"],
    },
}
_ASTER_OUTPUT = _output(
    "Position report",
    "The resulting (simulated) position and its risk levels.",
    {
        "mode": _p("string", "Mode", "paper.", enum=["paper"]),
        "chain": _p("string", "Chain", "Chain used.", enum=_ASTER_CHAINS),
        "symbol": _p("string", "Market", "Traded market."),
        "side": _p("string", "Side", "long or short.", enum=["long", "short"]),
        "status": _p(
            "string",
            "Order status",
            "Outcome of the entry order.",
            enum=["filled", "partial", "cancelled", "rejected"],
        ),
        "entry_price": _p(["number", "null"], "Entry price", "Average fill price."),
        "size": _p("number", "Size", "Position size in base units.", minimum=0),
        "notional_usd": _p("number", "Notional (USD)", "Size x entry price.", minimum=0),
        "margin_usd": _p("number", "Margin (USD)", "Isolated margin posted.", minimum=0),
        "liquidation_price": _p(["number", "null"], "Liquidation price", "Estimated."),
        "stop_loss_price": _p(["number", "null"], "Stop-loss price", "Trigger price."),
        "take_profit_price": _p(["number", "null"], "Take-profit price", "Trigger price."),
        "exit_reason": _p(
            ["string", "null"],
            "Exit reason",
            "stop_loss, take_profit or end_of_replay; null while open.",
        ),
        "realized_pnl_usd": _p("number", "Realized PnL (USD)", "After fees and funding."),
        "fees_usd": _p("number", "Fees (USD)", "Trading fees.", minimum=0),
        "warnings": _array(
            "Warnings",
            "e.g. order reduced to respect the maximum position.",
            {"type": "string"},
        ),
    },
    ["mode", "chain", "symbol", "side", "status", "size", "realized_pnl_usd", "warnings"],
)
_ASTER_PAPER_PRICES = [67250.0, 67310.5, 67198.0, 67402.5, 67520.0, 67488.5, 67610.0]

ASTER_PERPETUALS = {
    "slug": "aster-perpetuals",
    "name": "Aster Perpetual Trading",
    "summary": "Opens a risk-checked perpetual position on Aster DEX across BNB Chain, "
    "Ethereum, Arbitrum or Solana; paper trading only.",
    "description": _md(
        """
        Plans and simulates a single perpetual position on Aster: pick the chain, market,
        side, leverage and collateral (USDT, the yield-bearing USDF or liquid-staked
        asBNB), and the agent sizes the order against your maximum position, computes
        isolated margin and the estimated liquidation price, sets stop-loss and optional
        take-profit triggers, and replays prices to show how the position would have
        played out.

        This release is **paper trading only**: nothing is sent to Aster. Live execution
        will need an Aster API key and secret saved in your account secrets and is not
        enabled yet.

        **Risk controls**

        - A stop-loss is required, and orders whose stop would sit beyond the estimated
          liquidation price are rejected
        - Leverage is capped at 100x even though Aster lists higher on some markets
        - Hidden (off-book) orders are allowed for limit orders only

        **Limits**

        - One position per run; no grid or stock perpetuals yet
        - Simulated fills assume enough liquidity at the replayed price; nothing here is
          investment advice
        """
    ),
    "category": "crypto",
    "tags": ["aster", "perpetuals", "trading", "multichain"],
    "featured": False,
    "versions": [
        {
            "version": "0.9.0",
            "changelog": "Beta: paper trading on BNB Chain and Arbitrum with USDT collateral.",
            "image_ref": _image("aster-perpetuals", "0.9.0"),
            "input_schema": _input(
                "Open an Aster perpetual position (paper)",
                "Market, side, leverage and risk limits.",
                _ASTER_V09_PROPS,
                _ASTER_REQUIRED,
                allOf=_ASTER_RULES["allOf"][:1],
            ),
            "output_schema": _ASTER_OUTPUT,
            "example_input": {
                "mode": "paper",
                "chain": "bnb",
                "symbol": "BTCUSDT",
                "side": "long",
                "leverage": 5,
                "max_position_pct": 5,
                "stop_loss_pct": 3,
                "paper_prices": _ASTER_PAPER_PRICES,
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 300,
            "price": "1.00",
            "currency": "USDC",
        },
        {
            "version": "1.0.0",
            "changelog": "Ethereum and Solana deployments, hidden limit orders, USDF and asBNB "
            "collateral.",
            "image_ref": _image("aster-perpetuals", "1.0.0"),
            "input_schema": _input(
                "Open an Aster perpetual position (paper)",
                "Chain, market, side, leverage, collateral and risk limits.",
                _ASTER_PROPS,
                _ASTER_REQUIRED,
                **_ASTER_RULES,
            ),
            "output_schema": _ASTER_OUTPUT,
            "example_input": {
                "mode": "paper",
                "chain": "arbitrum",
                "symbol": "BTCUSDT",
                "side": "long",
                "order_type": "limit",
                "limit_price": 67200,
                "hidden": True,
                "collateral": "USDF",
                "leverage": 5,
                "max_position_pct": 5,
                "stop_loss_pct": 3,
                "take_profit_pct": 6,
                "paper_prices": _ASTER_PAPER_PRICES,
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 300,
            "price": "1.50",
            "currency": "USDC",
        },
    ],
}

# --- 15. Cross-DEX Arbitrage Finder ----------------------------------------------------------

_DEX_CHAINS = ["ethereum", "arbitrum", "optimism", "base", "polygon", "bnb", "solana"]
_ARB_QUOTE = _obj(
    "Quote",
    "Executable prices on one venue for the trade size, e.g. from an aggregator quote.",
    {
        "venue": _p(
            "string", "Venue", "DEX name, e.g. uniswap-v3, curve, pancakeswap.", maxLength=40
        ),
        "chain": _p("string", "Chain", "Chain the venue is on.", enum=_DEX_CHAINS),
        "pair": _p(
            "string",
            "Pair",
            "BASE/QUOTE, e.g. ETH/USDC.",
            pattern="^[A-Za-z0-9.]{1,12}/[A-Za-z0-9.]{1,12}$",
        ),
        "bid": _p("number", "Bid", "Price you can sell at.", exclusiveMinimum=0),
        "ask": _p("number", "Ask", "Price you can buy at.", exclusiveMinimum=0),
        "fee_bps": _p(
            "number",
            "Pool fee (bps)",
            "Swap fee not already in bid/ask.",
            minimum=0,
            maximum=1000,
            default=0,
        ),
        "liquidity_usd": _p(
            "number", "Liquidity (USD)", "Depth available near this price.", minimum=0
        ),
        "quoted_at": _p("string", "Quoted at", "When the quote was taken.", format="date-time"),
    },
    ["venue", "chain", "pair", "bid", "ask"],
)
_ARB_PROPS = {
    "quotes": _array(
        "Quotes", "At least two quotes for the same pair.", _ARB_QUOTE, minItems=2, maxItems=500
    ),
    "trade_size_usd": _p(
        "number",
        "Trade size (USD)",
        "Size the quotes are for; opportunities are capped by each venue's liquidity.",
        minimum=100,
        maximum=1_000_000,
        default=5000,
    ),
    "gas_cost_usd": _p(
        "number",
        "Gas per swap (USD)",
        "Estimated gas cost of one swap; both legs pay it.",
        minimum=0,
        maximum=500,
        default=1.5,
    ),
    "min_profit_bps": _p(
        "number",
        "Minimum net profit (bps)",
        "Hide opportunities below this profit after fees and gas.",
        minimum=0,
        maximum=1000,
        default=15,
    ),
    "max_quote_age_seconds": _p(
        "integer",
        "Maximum quote age (s)",
        "Ignore quotes older than this relative to the newest quote.",
        minimum=1,
        maximum=3600,
        default=30,
    ),
    "include_cross_chain": _p(
        "boolean",
        "Include cross-chain",
        "Also pair venues on different chains, charging bridge_cost_usd per trade.",
        default=False,
    ),
    "bridge_cost_usd": _p(
        "number",
        "Bridge cost (USD)",
        "Bridge fee plus gas for moving funds between chains.",
        minimum=0,
        maximum=1000,
        default=8,
    ),
}
_ARB_OUTPUT = _output(
    "Arbitrage opportunities",
    "Buy-low/sell-high venue pairs ranked by net profit.",
    {
        "opportunities": _array(
            "Opportunities",
            "Best first.",
            _obj(
                "Opportunity",
                "Buy on one venue, sell on another.",
                {
                    "pair": _p("string", "Pair", "Traded pair."),
                    "buy_venue": _p("string", "Buy on", "Venue with the lower ask."),
                    "buy_chain": _p("string", "Buy chain", "Chain of the buy venue."),
                    "sell_venue": _p("string", "Sell on", "Venue with the higher bid."),
                    "sell_chain": _p("string", "Sell chain", "Chain of the sell venue."),
                    "buy_price": _p("number", "Buy price", "Ask on the buy venue."),
                    "sell_price": _p("number", "Sell price", "Bid on the sell venue."),
                    "gross_spread_bps": _p("number", "Gross spread (bps)", "Before costs."),
                    "size_usd": _p("number", "Size (USD)", "Trade size after liquidity caps."),
                    "net_profit_usd": _p(
                        "number", "Net profit (USD)", "After fees, gas and bridging."
                    ),
                    "net_profit_bps": _p("number", "Net profit (bps)", "Relative to size."),
                },
                ["pair", "buy_venue", "sell_venue", "net_profit_usd", "net_profit_bps"],
                closed=False,
            ),
        ),
        "quotes_used": _p("integer", "Quotes used", "Quotes after the age filter.", minimum=0),
        "quotes_stale": _p("integer", "Stale quotes", "Quotes ignored as too old.", minimum=0),
    },
    ["opportunities", "quotes_used", "quotes_stale"],
)
_ARB_QUOTES = [
    {
        "venue": "uniswap-v3",
        "chain": "arbitrum",
        "pair": "ETH/USDC",
        "bid": 3408.2,
        "ask": 3409.9,
        "fee_bps": 5,
        "liquidity_usd": 2_400_000,
        "quoted_at": "2024-10-08T12:00:02Z",
    },
    {
        "venue": "camelot",
        "chain": "arbitrum",
        "pair": "ETH/USDC",
        "bid": 3421.7,
        "ask": 3423.1,
        "fee_bps": 30,
        "liquidity_usd": 310_000,
        "quoted_at": "2024-10-08T12:00:03Z",
    },
    {
        "venue": "aerodrome",
        "chain": "base",
        "pair": "ETH/USDC",
        "bid": 3415.0,
        "ask": 3416.4,
        "fee_bps": 5,
        "liquidity_usd": 1_800_000,
        "quoted_at": "2024-10-08T12:00:01Z",
    },
]

CROSS_DEX_ARBITRAGE_FINDER = {
    "slug": "cross-dex-arbitrage-finder",
    "name": "Cross-DEX Arbitrage Finder",
    "summary": "Finds buy-low/sell-high gaps between DEX quotes and ranks them by profit after "
    "pool fees, gas and bridge costs.",
    "description": _md(
        """
        Feed in a snapshot of quotes for the same pairs across decentralized exchanges
        (for example from an aggregator's quote API) and the agent compares every venue
        pair, subtracts pool fees, gas for both legs and, optionally, the cost of bridging
        between chains, and ranks what is left by net profit. Stale quotes are dropped so
        an old price cannot create a phantom opportunity.

        The agent only finds opportunities; it never trades. Real arbitrage windows close
        in seconds and are contested by MEV searchers, so treat results as research.

        **What it does**

        - Compares up to 500 quotes across seven chains
        - Caps each opportunity by the liquidity on both venues
        - Optionally includes cross-chain routes with a bridge cost

        **Limits**

        - Uses your quote snapshot as given; no live prices or slippage simulation
        - Ignores MEV and failed-transaction risk; nothing here is investment advice
        """
    ),
    "category": "crypto",
    "tags": ["arbitrage", "defi", "dex"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: same-chain opportunities net of fees and gas.",
            "image_ref": _image("cross-dex-arbitrage-finder", "1.0.0"),
            "input_schema": _input(
                "Find arbitrage",
                "Quote snapshot and cost assumptions.",
                _omit(_ARB_PROPS, "include_cross_chain", "bridge_cost_usd"),
                ["quotes"],
            ),
            "output_schema": _ARB_OUTPUT,
            "example_input": {"quotes": _ARB_QUOTES[:2], "trade_size_usd": 5000},
            "memory_mb": 512,
            "cpus": "1.0",
            "timeout_seconds": 60,
            "price": "0.75",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Cross-chain routes with a bridge cost; stale-quote filter.",
            "image_ref": _image("cross-dex-arbitrage-finder", "1.1.0"),
            "input_schema": _input(
                "Find arbitrage",
                "Quote snapshot and cost assumptions.",
                _ARB_PROPS,
                ["quotes"],
            ),
            "output_schema": _ARB_OUTPUT,
            "example_input": {
                "quotes": _ARB_QUOTES,
                "trade_size_usd": 5000,
                "gas_cost_usd": 0.4,
                "min_profit_bps": 10,
                "include_cross_chain": True,
                "bridge_cost_usd": 6,
            },
            "memory_mb": 512,
            "cpus": "1.0",
            "timeout_seconds": 60,
            "price": "0.75",
            "currency": "USDC",
        },
    ],
}

# --- 16. DeFi Yield Optimizer ----------------------------------------------------------------

_YIELD_POOL = _obj(
    "Pool",
    "One yield opportunity, e.g. a row from a DefiLlama yields export.",
    {
        "protocol": _p("string", "Protocol", "e.g. aave-v3, compound-v3, curve.", maxLength=60),
        "chain": _p("string", "Chain", "Chain of the pool.", enum=_DEX_CHAINS),
        "asset": _p("string", "Asset", "Deposit asset, e.g. USDC or stETH.", maxLength=30),
        "apy_pct": _p("number", "APY (%)", "Current total APY.", minimum=0, maximum=1000),
        "tvl_usd": _p("number", "TVL (USD)", "Total value locked.", minimum=0),
        "audited": _p("boolean", "Audited", "At least one public audit.", default=False),
        "age_days": _p("integer", "Age (days)", "Days since the pool launched.", minimum=0),
        "stablecoin": _p("boolean", "Stablecoin", "Deposit asset is a stablecoin.", default=False),
    },
    ["protocol", "chain", "asset", "apy_pct", "tvl_usd"],
)
_YIELD_PROPS = {
    "capital_usd": _p(
        "number", "Capital (USD)", "Amount to allocate.", minimum=100, maximum=10_000_000
    ),
    "pools": _array("Pools", "Candidate pools.", _YIELD_POOL, minItems=1, maxItems=200),
    "risk_profile": _p(
        "string",
        "Risk profile",
        "conservative favours audited, older, high-TVL pools; aggressive weighs APY more.",
        enum=["conservative", "balanced", "aggressive"],
        default="balanced",
    ),
    "max_allocation_pct": _p(
        "number",
        "Maximum per pool (%)",
        "Largest share of capital in any one pool.",
        minimum=5,
        maximum=100,
        default=25,
    ),
    "min_tvl_usd": _p(
        "number",
        "Minimum TVL (USD)",
        "Exclude pools smaller than this.",
        minimum=0,
        default=5_000_000,
    ),
    "stablecoins_only": _p(
        "boolean", "Stablecoins only", "Only consider stablecoin pools.", default=False
    ),
    "allowed_chains": _array(
        "Allowed chains",
        "Only consider these chains; empty means all.",
        {"type": "string", "enum": _DEX_CHAINS},
        uniqueItems=True,
    ),
}
_YIELD_OUTPUT = _output(
    "Allocation plan",
    "How to split the capital and why pools were excluded.",
    {
        "allocations": _array(
            "Allocations",
            "Largest first.",
            _obj(
                "Allocation",
                "Capital assigned to one pool.",
                {
                    "protocol": _p("string", "Protocol", "Protocol."),
                    "chain": _p("string", "Chain", "Chain."),
                    "asset": _p("string", "Asset", "Deposit asset."),
                    "amount_usd": _p("number", "Amount (USD)", "Capital assigned.", minimum=0),
                    "weight_pct": _p("number", "Weight (%)", "Share of capital.", minimum=0),
                    "apy_pct": _p("number", "APY (%)", "APY from the input.", minimum=0),
                    "risk_score": _p(
                        "integer",
                        "Risk score",
                        "0 (lowest) to 100, from audit status, age, TVL and APY outliers.",
                        minimum=0,
                        maximum=100,
                    ),
                },
                ["protocol", "chain", "asset", "amount_usd", "weight_pct", "apy_pct"],
                closed=False,
            ),
        ),
        "blended_apy_pct": _p(
            "number", "Blended APY (%)", "Capital-weighted APY of the plan.", minimum=0
        ),
        "excluded": _array(
            "Excluded pools",
            "Pools left out and why.",
            _obj(
                "Exclusion",
                "A pool that was not used.",
                {
                    "pool": _p("string", "Pool", "protocol/chain/asset."),
                    "reason": _p("string", "Reason", "Why it was excluded."),
                },
                ["pool", "reason"],
                closed=False,
            ),
        ),
    },
    ["allocations", "blended_apy_pct", "excluded"],
)
_YIELD_POOLS = [
    {
        "protocol": "aave-v3",
        "chain": "arbitrum",
        "asset": "USDC",
        "apy_pct": 5.8,
        "tvl_usd": 310_000_000,
        "audited": True,
        "age_days": 900,
        "stablecoin": True,
    },
    {
        "protocol": "compound-v3",
        "chain": "base",
        "asset": "USDC",
        "apy_pct": 7.1,
        "tvl_usd": 96_000_000,
        "audited": True,
        "age_days": 420,
        "stablecoin": True,
    },
    {
        "protocol": "newfarm",
        "chain": "bnb",
        "asset": "USDT",
        "apy_pct": 48.0,
        "tvl_usd": 1_200_000,
        "audited": False,
        "age_days": 12,
        "stablecoin": True,
    },
]

DEFI_YIELD_OPTIMIZER = {
    "slug": "defi-yield-optimizer",
    "name": "DeFi Yield Optimizer",
    "summary": "Splits capital across lending and liquidity pools by risk-adjusted yield, "
    "with per-pool caps and a reason for every exclusion.",
    "description": _md(
        """
        Give the agent your capital and a list of candidate pools with their APY and TVL
        (for example an export from DefiLlama's yields page), choose a risk profile, and it
        returns an allocation plan: how much to put where, the blended APY, a 0-100 risk
        score per pool, and a reason for every pool it left out.

        Risk scoring penalises unaudited and very young pools, small TVL, and APYs far
        above comparable pools (usually emissions that will not last). Per-pool caps keep
        the plan diversified.

        **What it does**

        - Ranks up to 200 pools across seven chains by risk-adjusted yield
        - Applies TVL minimums, chain filters, stablecoin-only mode and per-pool caps
        - Explains every exclusion in plain words

        **Limits**

        - Plans only: it does not deposit, withdraw or hold funds
        - APY and TVL are taken from your input as-is; nothing here is investment advice
        """
    ),
    "category": "crypto",
    "tags": ["defi", "yield", "portfolio"],
    "featured": True,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: APY-ranked allocation with per-pool caps.",
            "image_ref": _image("defi-yield-optimizer", "1.0.0"),
            "input_schema": _input(
                "Plan a yield allocation",
                "Capital, candidate pools and constraints.",
                _omit(_YIELD_PROPS, "risk_profile"),
                ["capital_usd", "pools"],
            ),
            "output_schema": _YIELD_OUTPUT,
            "example_input": {"capital_usd": 50_000, "pools": _YIELD_POOLS},
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 120,
            "price": "1.00",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Risk profiles and risk scores from audit status, pool age and APY "
            "outliers.",
            "image_ref": _image("defi-yield-optimizer", "1.1.0"),
            "input_schema": _input(
                "Plan a yield allocation",
                "Capital, candidate pools, risk profile and constraints.",
                _YIELD_PROPS,
                ["capital_usd", "pools"],
            ),
            "output_schema": _YIELD_OUTPUT,
            "example_input": {
                "capital_usd": 50_000,
                "pools": _YIELD_POOLS,
                "risk_profile": "conservative",
                "max_allocation_pct": 60,
                "min_tvl_usd": 10_000_000,
                "stablecoins_only": True,
            },
            "memory_mb": 512,
            "cpus": "0.5",
            "timeout_seconds": 120,
            "price": "1.00",
            "currency": "USDC",
        },
    ],
}

# --- 17. Whale Tracker -----------------------------------------------------------------------

_WHALE_TRANSFER = _obj(
    "Transfer",
    "One token transfer, e.g. a row from a block explorer or indexer export.",
    {
        "tx_hash": _p("string", "Transaction", "Transaction hash.", pattern=_EVM_TX_HASH),
        "timestamp": _p("string", "Time", "Block time.", format="date-time"),
        "from": _p("string", "From", "Sender address.", pattern=_EVM_ADDRESS),
        "to": _p("string", "To", "Recipient address.", pattern=_EVM_ADDRESS),
        "token": _p("string", "Token", "Token symbol, e.g. ETH, USDT.", maxLength=20),
        "amount": _p("number", "Amount", "Amount in token units.", minimum=0),
        "usd_value": _p("number", "Value (USD)", "USD value at transfer time.", minimum=0),
    },
    ["tx_hash", "timestamp", "from", "to", "token", "usd_value"],
)
_WHALE_LABEL = _obj(
    "Address label",
    "A name for an address, e.g. an exchange hot wallet or a fund.",
    {
        "address": _p("string", "Address", "EVM address.", pattern=_EVM_ADDRESS),
        "label": _p("string", "Label", "Display name.", minLength=1, maxLength=60),
        "is_exchange": _p("boolean", "Exchange", "Counts for exchange flows.", default=False),
    },
    ["address", "label"],
)
_WHALE_PROPS = {
    "transfers": _array(
        "Transfers", "Transfers to scan.", _WHALE_TRANSFER, minItems=1, maxItems=20_000
    ),
    "min_usd_value": _p(
        "number",
        "Whale threshold (USD)",
        "Transfers at or above this value are reported.",
        minimum=10_000,
        default=1_000_000,
    ),
    "labels": _array(
        "Extra labels",
        "Your own address labels; added to the roughly 300 built-in exchange and bridge wallets.",
        _WHALE_LABEL,
        maxItems=1000,
    ),
    "watch_addresses": _array(
        "Watched addresses",
        "Always report transfers touching these addresses, whatever their size.",
        {"type": "string", "pattern": _EVM_ADDRESS},
        maxItems=200,
        uniqueItems=True,
    ),
}
_WHALE_OUTPUT = _output(
    "Whale report",
    "Large transfers, exchange flows and the most active addresses.",
    {
        "whale_transfers": _array(
            "Whale transfers",
            "Largest first.",
            _obj(
                "Whale transfer",
                "A large or watched transfer.",
                {
                    "tx_hash": _p("string", "Transaction", "Transaction hash."),
                    "timestamp": _p("string", "Time", "Block time.", format="date-time"),
                    "from": _p("string", "From", "Sender."),
                    "from_label": _p(["string", "null"], "From label", "Known name, if any."),
                    "to": _p("string", "To", "Recipient."),
                    "to_label": _p(["string", "null"], "To label", "Known name, if any."),
                    "token": _p("string", "Token", "Token symbol."),
                    "usd_value": _p("number", "Value (USD)", "USD value.", minimum=0),
                    "flow": _p(
                        "string",
                        "Flow",
                        "Direction relative to exchanges.",
                        enum=[
                            "exchange_inflow",
                            "exchange_outflow",
                            "exchange_internal",
                            "wallet_to_wallet",
                        ],
                    ),
                    "watched": _p("boolean", "Watched", "Touches a watched address."),
                },
                ["tx_hash", "timestamp", "from", "to", "token", "usd_value", "flow"],
                closed=False,
            ),
        ),
        "exchange_inflow_usd": _p(
            "number", "Exchange inflow (USD)", "Whale value sent to exchanges.", minimum=0
        ),
        "exchange_outflow_usd": _p(
            "number", "Exchange outflow (USD)", "Whale value withdrawn from exchanges.", minimum=0
        ),
        "net_exchange_flow_usd": _p(
            "number", "Net exchange flow (USD)", "Inflow minus outflow; positive = to exchanges."
        ),
        "top_addresses": _array(
            "Most active addresses",
            "Top 10 by whale volume.",
            _obj(
                "Address activity",
                "Whale volume of one address.",
                {
                    "address": _p("string", "Address", "EVM address."),
                    "label": _p(["string", "null"], "Label", "Known name, if any."),
                    "volume_usd": _p("number", "Volume (USD)", "Sent plus received.", minimum=0),
                    "transfers": _p("integer", "Transfers", "Whale transfers.", minimum=0),
                },
                ["address", "volume_usd", "transfers"],
                closed=False,
            ),
            maxItems=10,
        ),
    },
    ["whale_transfers", "exchange_inflow_usd", "exchange_outflow_usd", "net_exchange_flow_usd"],
)
_WHALE_TRANSFERS = [
    {
        "tx_hash": "0x5c7a3e1f0b9d2c4a6e8f1b3d5c7e9a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a1c",
        "timestamp": "2024-10-08T11:42:17Z",
        "from": "0x8c3f9a2b6d1e4f70a5b8c9d0e1f2a3b4c5d6e7f8",
        "to": "0x28c6c06298d514db089934071355e5743bf21d60",
        "token": "ETH",
        "amount": 1500,
        "usd_value": 5_118_000,
    },
    {
        "tx_hash": "0x9e1d3b5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b",
        "timestamp": "2024-10-08T11:55:03Z",
        "from": "0x4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b",
        "to": "0x1f2e3d4c5b6a79880716253443526170a9b8c7d6",
        "token": "USDT",
        "amount": 250_000,
        "usd_value": 250_000,
    },
]

WHALE_TRACKER = {
    "slug": "whale-tracker",
    "name": "Whale Tracker",
    "summary": "Flags large on-chain transfers, labels exchange wallets and sums whale inflows "
    "and outflows to exchanges.",
    "description": _md(
        """
        Scan a batch of EVM token transfers (exported from a block explorer or an indexer)
        for whale activity: every transfer above your threshold is reported with known
        address labels, classified as an exchange inflow, exchange outflow or
        wallet-to-wallet move, and summed into net exchange flow, a common signal of
        selling (inflows) or accumulation (outflows) pressure.

        About 300 exchange and bridge wallets are labelled out of the box; add your own
        labels and a watch list of addresses to always report, regardless of size.

        **What it does**

        - Scans up to 20,000 transfers per run
        - Labels and classifies flows to and from exchanges
        - Lists the ten addresses with the most whale volume

        **Limits**

        - EVM chains only (Ethereum-style addresses); no Bitcoin or Solana yet
        - Works on the transfers you pass in; it does not watch the chain continuously
        """
    ),
    "category": "crypto",
    "tags": ["on-chain", "analytics", "whales"],
    "featured": True,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: threshold scan with built-in exchange labels.",
            "image_ref": _image("whale-tracker", "1.0.0"),
            "input_schema": _input(
                "Track whales",
                "Transfers to scan and the whale threshold.",
                _omit(_WHALE_PROPS, "labels", "watch_addresses"),
                ["transfers"],
            ),
            "output_schema": _WHALE_OUTPUT,
            "example_input": {"transfers": _WHALE_TRANSFERS},
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 180,
            "price": "0.50",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Custom address labels and net exchange flow totals.",
            "image_ref": _image("whale-tracker", "1.1.0"),
            "input_schema": _input(
                "Track whales",
                "Transfers to scan, the whale threshold and your labels.",
                _omit(_WHALE_PROPS, "watch_addresses"),
                ["transfers"],
            ),
            "output_schema": _WHALE_OUTPUT,
            "example_input": {
                "transfers": _WHALE_TRANSFERS,
                "min_usd_value": 500_000,
                "labels": [
                    {
                        "address": "0x8c3f9a2b6d1e4f70a5b8c9d0e1f2a3b4c5d6e7f8",
                        "label": "Example Capital",
                    }
                ],
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 180,
            "price": "0.50",
            "currency": "USDC",
        },
        {
            "version": "1.2.0",
            "changelog": "Watch list: always report transfers touching chosen addresses.",
            "image_ref": _image("whale-tracker", "1.2.0"),
            "input_schema": _input(
                "Track whales",
                "Transfers to scan, the whale threshold, labels and watched addresses.",
                _WHALE_PROPS,
                ["transfers"],
            ),
            "output_schema": _WHALE_OUTPUT,
            "example_input": {
                "transfers": _WHALE_TRANSFERS,
                "min_usd_value": 1_000_000,
                "labels": [
                    {
                        "address": "0x8c3f9a2b6d1e4f70a5b8c9d0e1f2a3b4c5d6e7f8",
                        "label": "Example Capital",
                    }
                ],
                "watch_addresses": ["0x4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b"],
            },
            "memory_mb": 1024,
            "cpus": "1.0",
            "timeout_seconds": 180,
            "price": "0.60",
            "currency": "USDC",
        },
    ],
}

# --- 18. Portfolio Rebalancer ----------------------------------------------------------------

_REBALANCE_PROPS = {
    "holdings": _array(
        "Holdings",
        "What you hold now, with current prices.",
        _obj(
            "Holding",
            "One asset position.",
            {
                "asset": _p("string", "Asset", "Symbol, e.g. BTC.", pattern="^[A-Za-z0-9.]{1,12}$"),
                "quantity": _p("number", "Quantity", "Units held.", minimum=0),
                "price_usd": _p("number", "Price (USD)", "Current price.", exclusiveMinimum=0),
            },
            ["asset", "quantity", "price_usd"],
        ),
        minItems=1,
        maxItems=100,
    ),
    "targets": _array(
        "Target weights",
        "Desired weights; they must add up to 100. Assets not listed have a 0% target.",
        _obj(
            "Target",
            "Desired share of one asset.",
            {
                "asset": _p("string", "Asset", "Symbol.", pattern="^[A-Za-z0-9.]{1,12}$"),
                "weight_pct": _p("number", "Weight (%)", "Target share.", minimum=0, maximum=100),
            },
            ["asset", "weight_pct"],
        ),
        minItems=1,
        maxItems=100,
    ),
    "drift_threshold_pct": _p(
        "number",
        "Drift threshold (percentage points)",
        "Only trade assets whose weight is off target by more than this.",
        minimum=0,
        maximum=50,
        default=5,
    ),
    "min_trade_usd": _p(
        "number", "Minimum trade (USD)", "Skip trades smaller than this.", minimum=0, default=25
    ),
    "fee_bps": _p(
        "number",
        "Trading fee (bps)",
        "Fee assumed per trade, used in the cost estimate.",
        minimum=0,
        maximum=200,
        default=10,
    ),
}
_REBALANCE_OUTPUT = _output(
    "Rebalancing plan",
    "Current versus target weights and the trades that close the gap.",
    {
        "total_value_usd": _p("number", "Portfolio value (USD)", "Sum of holdings.", minimum=0),
        "weights": _array(
            "Weights",
            "Per asset: current, target and drift.",
            _obj(
                "Weight",
                "Weights of one asset.",
                {
                    "asset": _p("string", "Asset", "Symbol."),
                    "current_pct": _p("number", "Current (%)", "Current weight."),
                    "target_pct": _p("number", "Target (%)", "Target weight."),
                    "drift_pct": _p("number", "Drift (pp)", "Current minus target."),
                },
                ["asset", "current_pct", "target_pct", "drift_pct"],
                closed=False,
            ),
        ),
        "trades": _array(
            "Trades",
            "Sells first, then buys, so sales fund purchases.",
            _obj(
                "Trade",
                "One suggested trade.",
                {
                    "asset": _p("string", "Asset", "Symbol."),
                    "side": _p("string", "Side", "buy or sell.", enum=["buy", "sell"]),
                    "quantity": _p("number", "Quantity", "Units to trade.", minimum=0),
                    "value_usd": _p("number", "Value (USD)", "Trade value.", minimum=0),
                },
                ["asset", "side", "quantity", "value_usd"],
                closed=False,
            ),
        ),
        "estimated_fees_usd": _p("number", "Estimated fees (USD)", "At fee_bps.", minimum=0),
        "rebalance_needed": _p("boolean", "Rebalance needed", "False if no trades are needed."),
    },
    ["total_value_usd", "weights", "trades", "estimated_fees_usd", "rebalance_needed"],
)
_REBALANCE_HOLDINGS = [
    {"asset": "BTC", "quantity": 0.42, "price_usd": 67_300},
    {"asset": "ETH", "quantity": 3.1, "price_usd": 3_410},
    {"asset": "SOL", "quantity": 95, "price_usd": 148.2},
    {"asset": "USDC", "quantity": 4_200, "price_usd": 1},
]
_REBALANCE_TARGETS = [
    {"asset": "BTC", "weight_pct": 50},
    {"asset": "ETH", "weight_pct": 25},
    {"asset": "SOL", "weight_pct": 10},
    {"asset": "USDC", "weight_pct": 15},
]

PORTFOLIO_REBALANCER = {
    "slug": "portfolio-rebalancer",
    "name": "Portfolio Rebalancer",
    "summary": "Compares crypto holdings with target weights and lists the trades that restore "
    "them, skipping small drifts and dust trades.",
    "description": _md(
        """
        Enter your holdings with current prices and the weights you want; the agent shows
        each asset's current weight and drift, and proposes the smallest set of trades that
        brings the portfolio back to target. Sells are listed before buys so proceeds fund
        purchases, and the estimated trading cost is included.

        A drift threshold avoids churning: assets within the band are left alone, and
        trades below the minimum size are skipped.

        **What it does**

        - Handles up to 100 assets, including stablecoins as the cash leg
        - Applies a drift band and a minimum trade size
        - Estimates fees at the rate you set

        **Limits**

        - Produces a plan; it does not place orders (use the trading agents for that)
        - Ignores tax consequences and per-exchange minimum order sizes
        """
    ),
    "category": "crypto",
    "tags": ["portfolio", "rebalancing", "risk"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: trades to exact target weights.",
            "image_ref": _image("portfolio-rebalancer", "1.0.0"),
            "input_schema": _input(
                "Rebalance a portfolio",
                "Holdings, target weights and trading costs.",
                _omit(_REBALANCE_PROPS, "drift_threshold_pct"),
                ["holdings", "targets"],
            ),
            "output_schema": _REBALANCE_OUTPUT,
            "example_input": {"holdings": _REBALANCE_HOLDINGS, "targets": _REBALANCE_TARGETS},
            "memory_mb": 256,
            "cpus": "0.25",
            "timeout_seconds": 60,
            "price": "0.50",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Drift threshold band to avoid trading small deviations.",
            "image_ref": _image("portfolio-rebalancer", "1.1.0"),
            "input_schema": _input(
                "Rebalance a portfolio",
                "Holdings, target weights, drift band and trading costs.",
                _REBALANCE_PROPS,
                ["holdings", "targets"],
            ),
            "output_schema": _REBALANCE_OUTPUT,
            "example_input": {
                "holdings": _REBALANCE_HOLDINGS,
                "targets": _REBALANCE_TARGETS,
                "drift_threshold_pct": 3,
                "min_trade_usd": 50,
                "fee_bps": 10,
            },
            "memory_mb": 256,
            "cpus": "0.25",
            "timeout_seconds": 60,
            "price": "0.50",
            "currency": "USDC",
        },
    ],
}

# --- 19. NFT Price Predictor -----------------------------------------------------------------

_NFT_TRAITS = _array(
    "Traits",
    "Traits as 'Type:Value' strings, e.g. 'Background:Blue'.",
    {"type": "string", "pattern": "^[^:]{1,40}:[^:]{1,60}$"},
    maxItems=30,
    uniqueItems=True,
)
_NFT_PROPS = {
    "collection": _p("string", "Collection", "Collection name or slug.", minLength=1, maxLength=80),
    "sales": _array(
        "Recent sales",
        "Sales history of the collection, e.g. from a marketplace export. At least 30 sales "
        "give a usable estimate; fewer widen the interval.",
        _obj(
            "Sale",
            "One sale.",
            {
                "token_id": _p("string", "Token ID", "Token identifier.", maxLength=80),
                "price_eth": _p("number", "Price (ETH)", "Sale price.", exclusiveMinimum=0),
                "timestamp": _p("string", "Time", "Sale time.", format="date-time"),
                "traits": _NFT_TRAITS,
                "buyer": _p("string", "Buyer", "Buyer address.", pattern=_EVM_ADDRESS),
                "seller": _p("string", "Seller", "Seller address.", pattern=_EVM_ADDRESS),
            },
            ["token_id", "price_eth", "timestamp"],
        ),
        minItems=5,
        maxItems=50_000,
    ),
    "token": _obj(
        "Token to price",
        "The NFT you want an estimate for.",
        {
            "token_id": _p("string", "Token ID", "Token identifier.", maxLength=80),
            "traits": _NFT_TRAITS,
        },
        ["token_id", "traits"],
    ),
    "confidence_level": _p(
        "number",
        "Confidence level",
        "Coverage of the returned price interval.",
        enum=[0.8, 0.9, 0.95],
        default=0.9,
    ),
    "lookback_days": _p(
        "integer",
        "Lookback (days)",
        "Only use sales from this many days before the latest sale.",
        minimum=7,
        maximum=365,
        default=90,
    ),
}
_NFT_OUTPUT = _output(
    "Price estimate",
    "Estimated fair value of the token with an interval.",
    {
        "token_id": _p("string", "Token ID", "Priced token."),
        "estimate_eth": _p("number", "Estimate (ETH)", "Point estimate.", minimum=0),
        "low_eth": _p("number", "Low (ETH)", "Lower bound of the interval.", minimum=0),
        "high_eth": _p("number", "High (ETH)", "Upper bound of the interval.", minimum=0),
        "confidence_level": _p("number", "Confidence level", "Interval coverage."),
        "floor_eth": _p("number", "Floor (ETH)", "Time-weighted floor estimate.", minimum=0),
        "trait_premiums": _array(
            "Trait premiums",
            "How the token's traits move the price relative to the floor.",
            _obj(
                "Trait premium",
                "Effect of one trait.",
                {
                    "trait": _p("string", "Trait", "Type:Value."),
                    "premium_pct": _p("number", "Premium (%)", "Estimated premium over floor."),
                },
                ["trait", "premium_pct"],
                closed=False,
            ),
        ),
        "sales_used": _p("integer", "Sales used", "Sales after filtering.", minimum=0),
        "wash_trades_removed": _p(
            "integer", "Wash trades removed", "Suspected wash trades dropped.", minimum=0
        ),
        "warnings": _array("Warnings", "e.g. few comparable sales.", {"type": "string"}),
    },
    ["token_id", "estimate_eth", "low_eth", "high_eth", "confidence_level", "sales_used"],
)
_NFT_SALES = [
    {
        "token_id": "1042",
        "price_eth": 1.95,
        "timestamp": "2024-09-28T10:12:00Z",
        "traits": ["Background:Blue", "Eyes:Laser"],
    },
    {
        "token_id": "877",
        "price_eth": 1.62,
        "timestamp": "2024-09-30T18:40:00Z",
        "traits": ["Background:Grey", "Eyes:Sleepy"],
    },
    {
        "token_id": "3310",
        "price_eth": 1.58,
        "timestamp": "2024-10-02T07:05:00Z",
        "traits": ["Background:Grey", "Eyes:Open"],
    },
    {
        "token_id": "219",
        "price_eth": 2.40,
        "timestamp": "2024-10-03T21:17:00Z",
        "traits": ["Background:Gold", "Eyes:Laser"],
    },
    {
        "token_id": "4501",
        "price_eth": 1.60,
        "timestamp": "2024-10-05T13:51:00Z",
        "traits": ["Background:Blue", "Eyes:Open"],
    },
    {
        "token_id": "3888",
        "price_eth": 1.71,
        "timestamp": "2024-10-07T09:30:00Z",
        "traits": ["Background:Blue", "Eyes:Sleepy"],
    },
]

NFT_PRICE_PREDICTOR = {
    "slug": "nft-price-predictor",
    "name": "NFT Price Predictor",
    "summary": "Estimates an NFT's fair value from its collection's recent sales and trait "
    "premiums, with a confidence interval.",
    "description": _md(
        """
        Pass a collection's recent sales and the traits of the token you care about; the
        agent estimates a time-weighted floor, fits trait premiums with a hedonic
        regression, and returns a fair-value estimate with an interval at the confidence
        level you choose, plus how much each of the token's traits adds or subtracts.

        Sales between the same pair of wallets, or bounced back and forth within a short
        window, are treated as suspected wash trades and removed before fitting.

        **What it does**

        - Uses up to 50,000 sales and any number of trait types
        - Reports per-trait premiums over the floor
        - Widens the interval and warns when comparable sales are scarce

        **Limits**

        - An estimate from past sales, not a forecast of future prices; illiquid
          collections give wide intervals
        - Prices in ETH only; nothing here is investment advice
        """
    ),
    "category": "crypto",
    "tags": ["nft", "pricing", "machine-learning"],
    "featured": False,
    "versions": [
        {
            "version": "0.9.0",
            "changelog": "Beta: floor and trait-premium model.",
            "image_ref": _image("nft-price-predictor", "0.9.0"),
            "input_schema": _input(
                "Estimate an NFT's value",
                "Collection sales and the token to price.",
                _omit(_NFT_PROPS, "lookback_days"),
                ["collection", "sales", "token"],
            ),
            "output_schema": _NFT_OUTPUT,
            "example_input": {
                "collection": "Example Apes",
                "sales": _NFT_SALES,
                "token": {"token_id": "5120", "traits": ["Background:Gold", "Eyes:Sleepy"]},
            },
            "memory_mb": 2048,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "2.00",
            "currency": "USDC",
        },
        {
            "version": "1.0.0",
            "changelog": "Wash-trade filter, lookback window and confidence level choice.",
            "image_ref": _image("nft-price-predictor", "1.0.0"),
            "input_schema": _input(
                "Estimate an NFT's value",
                "Collection sales, the token to price and the model settings.",
                _NFT_PROPS,
                ["collection", "sales", "token"],
            ),
            "output_schema": _NFT_OUTPUT,
            "example_input": {
                "collection": "Example Apes",
                "sales": _NFT_SALES,
                "token": {"token_id": "5120", "traits": ["Background:Gold", "Eyes:Sleepy"]},
                "confidence_level": 0.8,
                "lookback_days": 30,
            },
            "memory_mb": 2048,
            "cpus": "2.0",
            "timeout_seconds": 300,
            "price": "2.00",
            "currency": "USDC",
        },
    ],
}

# --- 20. Gas Fee Optimizer -------------------------------------------------------------------

_GAS_CHAINS_V1 = ["ethereum"]
_GAS_CHAINS = ["ethereum", "arbitrum", "optimism", "base", "polygon", "bnb"]
_GAS_PROPS = {
    "chain": _p(
        "string",
        "Chain",
        "Chain the transaction will be sent on.",
        enum=_GAS_CHAINS,
        default="ethereum",
    ),
    "recent_blocks": _array(
        "Recent blocks",
        "Recent blocks, oldest first (eth_feeHistory output converted to gwei works).",
        _obj(
            "Block",
            "Fee data of one block.",
            {
                "number": _p("integer", "Block", "Block number.", minimum=0),
                "timestamp": _p("string", "Time", "Block time.", format="date-time"),
                "base_fee_gwei": _p("number", "Base fee (gwei)", "Block base fee.", minimum=0),
                "gas_used_ratio": _p(
                    "number", "Gas used ratio", "gasUsed / gasLimit.", minimum=0, maximum=1
                ),
                "priority_fee_p50_gwei": _p(
                    "number", "Median tip (gwei)", "Median priority fee paid.", minimum=0
                ),
            },
            ["number", "base_fee_gwei", "gas_used_ratio"],
        ),
        minItems=5,
        maxItems=2000,
    ),
    "gas_limit": _p(
        "integer",
        "Gas limit",
        "Gas the transaction uses: 21000 for a plain transfer, about 65000 for an ERC-20 "
        "transfer, 150000+ for swaps.",
        minimum=21_000,
        maximum=30_000_000,
        default=21_000,
    ),
    "urgency": _p(
        "string",
        "Urgency",
        "asap: next block; standard: within about a minute; patient: wait up to "
        "max_wait_minutes for a cheaper block.",
        enum=["asap", "standard", "patient"],
        default="standard",
    ),
    "max_wait_minutes": _p(
        "integer",
        "Maximum wait (minutes)",
        "For patient urgency: the longest you are willing to wait.",
        minimum=1,
        maximum=1440,
        default=60,
    ),
    "native_price_usd": _p(
        "number",
        "Native token price (USD)",
        "Price of the chain's gas token, to report costs in USD.",
        exclusiveMinimum=0,
    ),
}
_GAS_OUTPUT = _output(
    "Gas recommendation",
    "EIP-1559 fee settings and the expected cost.",
    {
        "chain": _p("string", "Chain", "Chain."),
        "max_fee_per_gas_gwei": _p("number", "maxFeePerGas (gwei)", "Fee cap.", minimum=0),
        "max_priority_fee_per_gas_gwei": _p(
            "number", "maxPriorityFeePerGas (gwei)", "Tip.", minimum=0
        ),
        "expected_cost_native": _p(
            "number", "Expected cost (native)", "At the predicted base fee.", minimum=0
        ),
        "expected_cost_usd": _p(
            ["number", "null"], "Expected cost (USD)", "Null without native_price_usd."
        ),
        "inclusion_probability": _p(
            "number",
            "Inclusion probability",
            "Chance of inclusion within the urgency window, from 0 to 1.",
            minimum=0,
            maximum=1,
        ),
        "base_fee_trend": _p(
            "string", "Base fee trend", "Recent direction.", enum=["rising", "falling", "stable"]
        ),
        "send_advice": _p("string", "Advice", "e.g. 'send now' or 'wait: fees falling'."),
        "savings_vs_asap_pct": _p(
            "number", "Savings vs asap (%)", "Expected saving over sending immediately."
        ),
    },
    [
        "chain",
        "max_fee_per_gas_gwei",
        "max_priority_fee_per_gas_gwei",
        "expected_cost_native",
        "inclusion_probability",
        "base_fee_trend",
        "send_advice",
    ],
)
_GAS_BLOCKS = [
    {
        "number": 20_931_400,
        "base_fee_gwei": 14.2,
        "gas_used_ratio": 0.71,
        "priority_fee_p50_gwei": 0.8,
    },
    {
        "number": 20_931_401,
        "base_fee_gwei": 14.9,
        "gas_used_ratio": 0.38,
        "priority_fee_p50_gwei": 0.6,
    },
    {
        "number": 20_931_402,
        "base_fee_gwei": 14.1,
        "gas_used_ratio": 0.42,
        "priority_fee_p50_gwei": 0.6,
    },
    {
        "number": 20_931_403,
        "base_fee_gwei": 13.5,
        "gas_used_ratio": 0.35,
        "priority_fee_p50_gwei": 0.5,
    },
    {
        "number": 20_931_404,
        "base_fee_gwei": 12.7,
        "gas_used_ratio": 0.49,
        "priority_fee_p50_gwei": 0.5,
    },
    {
        "number": 20_931_405,
        "base_fee_gwei": 12.7,
        "gas_used_ratio": 0.52,
        "priority_fee_p50_gwei": 0.5,
    },
]

GAS_FEE_OPTIMIZER = {
    "slug": "gas-fee-optimizer",
    "name": "Gas Fee Optimizer",
    "summary": "Recommends EIP-1559 fee settings and send timing from recent blocks, trading "
    "inclusion speed against cost.",
    "description": _md(
        """
        Give the agent the fee history of recent blocks and your transaction's gas limit,
        and it predicts the next base fees and recommends maxFeePerGas and
        maxPriorityFeePerGas for your urgency: next block, within about a minute, or
        patient (wait for a cheaper block up to a time limit). It also reports the expected
        cost, the probability of inclusion in time, and whether waiting is likely to pay off.

        Predictions follow the EIP-1559 base fee rule (each block moves the base fee by up
        to 12.5% depending on how full the previous block was), calibrated on the history
        you provide.

        **What it does**

        - Supports Ethereum, Arbitrum, Optimism, Base, Polygon and BNB Chain
        - Converts costs to USD when you give the native token price
        - Flags rising or falling fee trends

        **Limits**

        - Estimates only; it does not sign or send transactions
        - L2 data (L1 posting) fees are not included in the estimate
        """
    ),
    "category": "crypto",
    "tags": ["gas", "ethereum", "eip-1559"],
    "featured": False,
    "versions": [
        {
            "version": "1.0.0",
            "changelog": "Initial release: Ethereum mainnet fee recommendations.",
            "image_ref": _image("gas-fee-optimizer", "1.0.0"),
            "input_schema": _input(
                "Optimize gas fees",
                "Recent blocks, gas limit and urgency.",
                {
                    **_GAS_PROPS,
                    "chain": {**_GAS_PROPS["chain"], "enum": _GAS_CHAINS_V1},
                },
                ["chain", "recent_blocks"],
            ),
            "output_schema": _GAS_OUTPUT,
            "example_input": {"chain": "ethereum", "recent_blocks": _GAS_BLOCKS},
            "memory_mb": 256,
            "cpus": "0.25",
            "timeout_seconds": 30,
            "price": "0.50",
            "currency": "USDC",
        },
        {
            "version": "1.1.0",
            "changelog": "Arbitrum, Optimism, Base, Polygon and BNB Chain; patient urgency with "
            "a wait limit.",
            "image_ref": _image("gas-fee-optimizer", "1.1.0"),
            "input_schema": _input(
                "Optimize gas fees",
                "Chain, recent blocks, gas limit and urgency.",
                _GAS_PROPS,
                ["chain", "recent_blocks"],
            ),
            "output_schema": _GAS_OUTPUT,
            "example_input": {
                "chain": "ethereum",
                "recent_blocks": _GAS_BLOCKS,
                "gas_limit": 65_000,
                "urgency": "patient",
                "max_wait_minutes": 30,
                "native_price_usd": 3410,
            },
            "memory_mb": 256,
            "cpus": "0.25",
            "timeout_seconds": 30,
            "price": "0.50",
            "currency": "USDC",
        },
    ],
}


# ============================================================================================
# The catalog
# ============================================================================================

DEMO_AGENTS: list[dict] = [
    # The 12 general-purpose agents
    WEB_CONTENT_SUMMARIZER,
    EMAIL_ASSISTANT,
    IMAGE_CAPTIONER,
    SPREADSHEET_ANALYZER,
    NEWS_AGGREGATOR,
    LANGUAGE_TRANSLATOR,
    SOCIAL_MEDIA_SCHEDULER,
    WEATHER_ALERTS,
    STOCK_MONITOR,
    PDF_EXTRACTOR,
    TASK_AUTOMATION,
    KNOWLEDGE_QA,
    # The 8 crypto agents
    HYPERLIQUID_MARKET_MAKER,
    ASTER_PERPETUALS,
    CROSS_DEX_ARBITRAGE_FINDER,
    DEFI_YIELD_OPTIMIZER,
    WHALE_TRACKER,
    PORTFOLIO_REBALANCER,
    NFT_PRICE_PREDICTOR,
    GAS_FEE_OPTIMIZER,
]


# ============================================================================================
# Self-check
# ============================================================================================

_SEMVER_CORE = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"
_SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_SECRET_WORDS = ("secret", "api_key", "apikey", "private_key", "password", "mnemonic", "seed")
_TRADING_SLUGS = ("hyperliquid-market-maker", "aster-perpetuals")


def _walk_properties(schema: dict, path: str = "$"):
    """Yield (path, name, subschema) for every declared property, through objects and arrays."""
    for name, prop in (schema.get("properties") or {}).items():
        yield f"{path}.{name}", name, prop
        yield from _walk_properties(prop, f"{path}.{name}")
        items = prop.get("items")
        if isinstance(items, dict):
            yield from _walk_properties(items, f"{path}.{name}[]")


def validate_demo_catalog() -> None:
    """Assert the catalog is internally consistent; raises AssertionError on the first problem."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    assert len(DEMO_AGENTS) == 20, f"expected 20 agents, got {len(DEMO_AGENTS)}"
    crypto = [a for a in DEMO_AGENTS if a["category"] == "crypto"]
    assert len(crypto) == 8, f"expected 8 crypto agents, got {len(crypto)}"
    assert len(DEMO_AGENTS) - len(crypto) == 12, "expected 12 non-crypto agents"
    slugs = [a["slug"] for a in DEMO_AGENTS]
    assert len(set(slugs)) == len(slugs), "duplicate slugs"
    featured = [a["slug"] for a in DEMO_AGENTS if a["featured"] is True]
    assert len(featured) == 6, f"expected 6 featured agents, got {featured}"
    assert any(a["featured"] for a in crypto), "featured agents must include crypto"
    assert any(a["featured"] for a in DEMO_AGENTS if a not in crypto), "and general agents"
    assert {c["slug"] for c in DEMO_CATEGORIES} == set(CATEGORIES)

    expected_keys = {"slug", "name", "summary", "description", "category", "tags", "featured"}
    version_keys = {
        "version",
        "changelog",
        "image_ref",
        "input_schema",
        "output_schema",
        "example_input",
        "memory_mb",
        "cpus",
        "timeout_seconds",
        "price",
        "currency",
    }

    for agent in DEMO_AGENTS:
        slug = agent["slug"]
        assert set(agent) == expected_keys | {"versions"}, f"{slug}: unexpected keys"
        assert re.match(_SLUG, slug), f"{slug}: bad slug"
        assert 0 < len(agent["name"]) <= 80, f"{slug}: name length"
        assert 0 < len(agent["summary"]) <= 160, f"{slug}: summary is {len(agent['summary'])}"
        assert "\n- " in agent["description"], f"{slug}: description needs a bullet list"
        assert agent["category"] in CATEGORIES, f"{slug}: bad category"
        tags = agent["tags"]
        assert 2 <= len(tags) <= 5 and len(set(tags)) == len(tags), f"{slug}: tags"
        assert all(re.match(_SLUG, t) for t in tags), f"{slug}: tags must be lowercase slugs"
        assert isinstance(agent["featured"], bool), f"{slug}: featured must be a bool"

        versions = agent["versions"]
        assert 1 <= len(versions) <= 3, f"{slug}: 1-3 versions"
        previous: tuple[int, ...] | None = None
        for v in versions:
            where = f"{slug}@{v.get('version')}"
            assert set(v) == version_keys, f"{where}: unexpected keys {set(v) ^ version_keys}"
            match = re.match(_SEMVER_CORE, v["version"])
            assert match, f"{where}: not MAJOR.MINOR.PATCH"
            current = tuple(int(part) for part in match.groups())
            assert previous is None or current > previous, f"{where}: versions must increase"
            previous = current
            assert v["changelog"] and "\n" not in v["changelog"], f"{where}: one-line changelog"
            assert v["image_ref"] == f"agentnexus/{slug}:{v['version']}", f"{where}: image_ref"
            assert 128 <= v["memory_mb"] <= 8192, f"{where}: memory_mb"
            assert Decimal("0.25") <= Decimal(v["cpus"]) <= Decimal("4"), f"{where}: cpus"
            assert 10 <= v["timeout_seconds"] <= 1800, f"{where}: timeout_seconds"
            assert v["currency"] == "USDC", f"{where}: currency"
            assert re.match(r"^[0-9]+\.[0-9]{2}$", v["price"]), f"{where}: price format"
            price = Decimal(v["price"])
            low, high = ("0.50", "25.00") if agent["category"] == "crypto" else ("0.05", "2.00")
            assert Decimal(low) <= price <= Decimal(high), f"{where}: price {price} out of range"

            for kind in ("input_schema", "output_schema"):
                schema = v[kind]
                try:
                    Draft202012Validator.check_schema(schema)
                except SchemaError as exc:
                    raise AssertionError(f"{where}: {kind} is invalid: {exc.message}") from exc
                assert schema.get("$schema") == SCHEMA_DIALECT, f"{where}: {kind} $schema"
                assert schema.get("type") == "object", f"{where}: {kind} must be an object"
                assert schema.get("title") and "required" in schema, f"{where}: {kind} title"
                for path, _name, prop in _walk_properties(schema):
                    missing = {"type", "title", "description"} - set(prop)
                    assert not missing, f"{where}: {kind} {path} lacks {sorted(missing)}"
                    if "default" in prop:
                        bad = next(Draft202012Validator(prop).iter_errors(prop["default"]), None)
                        assert bad is None, f"{where}: {kind} {path} default: {bad and bad.message}"

            input_schema = v["input_schema"]
            validator = Draft202012Validator(
                input_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            errors = sorted(validator.iter_errors(v["example_input"]), key=str)
            assert not errors, f"{where}: example_input invalid: {errors[0].message}"

            for path, name, _prop in _walk_properties(input_schema):
                lowered = name.lower()
                assert not any(w in lowered for w in _SECRET_WORDS), f"{where}: secret {path}"
            mode = input_schema["properties"].get("mode")
            if slug in _TRADING_SLUGS:
                assert mode and mode.get("default") == "paper", f"{where}: paper by default"
                assert mode["enum"][0] == "paper", f"{where}: paper must be the first mode"
                for field in ("symbol", "max_position_pct", "stop_loss_pct"):
                    assert field in input_schema["required"], f"{where}: {field} required"

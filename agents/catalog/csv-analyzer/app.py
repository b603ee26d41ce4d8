"""CSV analyzer: per-column statistics of an inline CSV document.

Every column gets an inferred type (integer, number, boolean, date, text or empty), its count of
values, missing values and distinct values; numbers also get min / max / mean / median / standard
deviation, everything else its most frequent values. The first row is the header.
"""

import csv
import datetime as dt
import io
import math
import statistics
from collections import Counter

from agentnexus_sdk import AgentError, agent

MISSING = {"", "na", "n/a", "nan", "null", "none", "-"}
TRUE = {"true", "yes", "y", "t"}
FALSE = {"false", "no", "n", "f"}
TOP_VALUES = 5
DELIMITERS = ",;\t|"
MAX_COLUMNS = 500


def _int(text: str) -> int | None:
    try:
        return int(text.replace("_", "x"))  # int() accepts 1_000; a CSV value with _ is text
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        value = float(text.replace("_", "x"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(text: str) -> str | None:
    if len(text) < 10 or text[4] != "-":
        return None
    try:
        return (
            dt.date.fromisoformat(text[:10]).isoformat()
            if len(text) == 10
            else (dt.datetime.fromisoformat(text).isoformat())
        )
    except ValueError:
        return None


def _round(value: float) -> float | int:
    value = round(float(value), 6)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _top(values: list[str]) -> list[dict]:
    counts = Counter(values)
    return [
        {"value": v, "count": c}
        for v, c in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:TOP_VALUES]
    ]


def infer(values: list[str]) -> str:
    if not values:
        return "empty"
    lowered = [v.lower() for v in values]
    if all(_int(v) is not None for v in values):
        return "integer"
    if all(_float(v) is not None for v in values):
        return "number"
    if all(v in TRUE or v in FALSE for v in lowered):
        return "boolean"
    if all(_date(v) is not None for v in values):
        return "date"
    return "text"


def column_stats(name: str, raw: list[str]) -> dict:
    values = [v.strip() for v in raw if v.strip().lower() not in MISSING]
    kind = infer(values)
    stats: dict = {
        "name": name,
        "type": kind,
        "count": len(values),
        "missing": len(raw) - len(values),
        "distinct": len(set(values)),
    }
    if kind in ("integer", "number"):
        numbers = [_int(v) if kind == "integer" else _float(v) for v in values]
        stats.update(
            min=min(numbers),
            max=max(numbers),
            mean=_round(statistics.fmean(numbers)),
            median=_round(statistics.median(numbers)),
            stddev=_round(statistics.stdev(numbers)) if len(numbers) > 1 else None,
        )
    elif kind == "date":
        dates = sorted(_date(v) for v in values)
        stats.update(min=dates[0], max=dates[-1], top_values=_top(values))
    elif kind == "boolean":
        stats["top_values"] = _top(["true" if v.lower() in TRUE else "false" for v in values])
    elif kind == "text":
        stats["top_values"] = _top(values)
    return stats


def detect_delimiter(text: str) -> str:
    """The candidate that splits the header and most of the first rows into the same number of
    fields (ties: more fields)."""
    lines = [line for line in text.splitlines()[:200] if line.strip()][:20]
    best, best_score = ",", (0, 0)
    for candidate in DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if not counts or counts[0] == 0:
            continue
        score = (sum(1 for c in counts if c == counts[0]), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def analyze(text: str, delimiter: str | None = None, progress=None) -> dict:
    delimiter = delimiter or detect_delimiter(text)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise AgentError("empty_csv", "The CSV has no header row.")
    header, body = rows[0], rows[1:]
    if len(header) > MAX_COLUMNS:
        raise AgentError(
            "too_many_columns", f"The CSV has {len(header)} columns (at most {MAX_COLUMNS})."
        )
    names, seen = [], set()
    for i, cell in enumerate(header, start=1):
        name = cell.strip() or f"column_{i}"
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    columns = []
    for i, name in enumerate(names):
        columns.append(column_stats(name, [row[i] if i < len(row) else "" for row in body]))
        if progress:
            progress(100 * (i + 1) / len(names), f"column {name}")
    return {
        "delimiter": delimiter,
        "rows": len(body),
        "ragged_rows": sum(1 for row in body if len(row) != len(header)),
        "columns": columns,
    }


@agent
def handle(input, ctx):
    text = input.get("csv")
    if not isinstance(text, str) or not text.strip():
        raise AgentError("empty_csv", "The input has no CSV text.")
    ctx.log(f"analyzing {len(text)} characters of CSV")
    result = analyze(text, input.get("delimiter"), progress=ctx.progress)
    ctx.log(f"{result['rows']} rows, {len(result['columns'])} columns")
    return result


if __name__ == "__main__":
    handle.serve()

"""Query shaping for the catalog. Views and the API read agents only through these."""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast
from django.utils.functional import SimpleLazyObject

from marketplace.catalog_cache import catalog_cached
from marketplace.models import LISTED, LISTED_STATUSES, Agent, AgentVersion, Category, Review


class Sort:
    RELEVANCE = "relevance"
    POPULAR = "popular"
    RATING = "rating"
    PRICE_ASC = "price"
    PRICE_DESC = "-price"
    NEWEST = "newest"

    CHOICES = [
        (RELEVANCE, "Best match"),
        (POPULAR, "Most popular"),
        (RATING, "Highest rated"),
        (PRICE_ASC, "Price: low to high"),
        (PRICE_DESC, "Price: high to low"),
        (NEWEST, "Newest"),
    ]


@dataclass(frozen=True)
class CatalogQuery:
    """A validated catalog search, built by the page's form or the API's query serializer."""

    text: str = ""
    category: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    sort: str = Sort.RELEVANCE


_WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_TERMS = 8


def _terms(text: str) -> list[str]:
    return [word.lower() for word in _WORD_RE.findall(text)][:MAX_SEARCH_TERMS]


def _listed() -> QuerySet[Agent]:
    return Agent.objects.filter(LISTED)


def _with_card_data(qs: QuerySet[Agent]) -> QuerySet[Agent]:
    return qs.select_related("category", "developer", "current_version").defer(
        "description",
        "search_vector",
        "current_version__input_schema",
        "current_version__output_schema",
        "current_version__example_input",
        "current_version__changelog",
    )


def _apply_text_search(qs: QuerySet[Agent], terms: list[str]) -> QuerySet[Agent]:
    if connection.vendor == "postgresql":
        # Prefix match on every term ("summ" finds "summarizer"); words only, so the raw
        # tsquery cannot be malformed by user input.
        query = SearchQuery(
            " & ".join(f"{term}:*" for term in terms), search_type="raw", config="english"
        )
        return qs.filter(search_vector=query).annotate(
            relevance=SearchRank(F("search_vector"), query)
        )
    # SQLite (local default): every term must appear somewhere; name hits rank first.
    qs = qs.annotate(tags_text=Cast("tags", TextField()))
    for term in terms:
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(summary__icontains=term)
            | Q(description__icontains=term)
            | Q(tags_text__icontains=term)
        )
    return qs.annotate(
        relevance=Case(
            When(name__icontains=terms[0], then=Value(3)),
            When(tags_text__icontains=terms[0], then=Value(2)),
            When(summary__icontains=terms[0], then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


_ORDERINGS: dict[str, list[str]] = {
    Sort.POPULAR: ["-runs_total", "-rating_avg", "name"],
    Sort.RATING: ["-rating_avg", "-rating_count", "name"],
    Sort.PRICE_ASC: ["list_price", "name"],
    Sort.PRICE_DESC: ["-list_price", "name"],
    Sort.NEWEST: ["-created_at", "name"],
}


def agent_search(*, query: CatalogQuery) -> QuerySet[Agent]:
    """Listed agents matching the query, in the requested order."""
    qs = _with_card_data(_listed())
    if query.category:
        qs = qs.filter(category__slug=query.category)
    if query.min_price is not None:
        qs = qs.filter(list_price__gte=query.min_price)
    if query.max_price is not None:
        qs = qs.filter(list_price__lte=query.max_price)
    terms = _terms(query.text)
    if terms:
        qs = _apply_text_search(qs, terms)
    if query.sort == Sort.RELEVANCE:
        if terms:
            return qs.order_by("-relevance", "-runs_total", "name")
        return qs.order_by("-featured", *_ORDERINGS[Sort.POPULAR])
    return qs.order_by(*_ORDERINGS.get(query.sort, _ORDERINGS[Sort.POPULAR]))


def agent_search_page(*, query: CatalogQuery, page: str | int | None, per_page: int) -> Page:
    """One page of `agent_search`, served from the catalog cache when it can be.

    Out-of-range or malformed page numbers give the nearest valid page, as people expect. The
    agents are loaded (from the cache, else the database) only when the page's `object_list` is
    used: the catalog page needs just the count and the number when its card grid comes from
    the fragment cache, and unpickling a dozen agents was a tenth of its CPU time.
    """

    def count_and_number() -> tuple[int, int]:
        paginator = Paginator(agent_search(query=query), per_page)
        return paginator.count, paginator.get_page(page).number

    count, number = catalog_cached(f"search-count:{query!r}:{page}:{per_page}", count_and_number)

    def agents() -> list[Agent]:
        start = (number - 1) * per_page
        return catalog_cached(
            f"search-page:{query!r}:{number}:{per_page}",
            lambda: list(agent_search(query=query)[start : start + per_page]),
        )

    paginator = Paginator([], per_page)
    paginator.count = count  # known from the cache: no second COUNT(*)
    return Page(SimpleLazyObject(agents), number, paginator)


def agent_featured_list(*, limit: int = 6) -> list[Agent]:
    return catalog_cached(
        f"featured:{limit}",
        lambda: list(
            _with_card_data(_listed()).filter(featured=True).order_by("-runs_total", "name")[:limit]
        ),
    )


def agent_get(*, slug: str) -> Agent | None:
    """An agent with everything its page shows; deprecated agents stay reachable by URL."""
    return (
        Agent.objects.select_related("category", "developer", "current_version")
        .defer("search_vector")
        .filter(slug=slug)
        .first()
    )


def category_list_with_counts() -> list[Category]:
    listed = Q(agents__current_version__isnull=False) & Q(agents__status__in=LISTED_STATUSES)
    return catalog_cached(
        "categories",
        lambda: list(Category.objects.annotate(agent_count=Count("agents", filter=listed))),
    )


def agent_reviews(*, agent: Agent) -> QuerySet[Review]:
    return Review.objects.filter(agent=agent).select_related("author").order_by("-created_at")


def review_of(*, agent: Agent, user) -> Review | None:
    if not user.is_authenticated:
        return None
    return Review.objects.filter(agent=agent, author=user).first()


def agent_versions(*, agent: Agent) -> QuerySet[AgentVersion]:
    return agent.versions.defer("input_schema", "output_schema", "example_input").order_by(
        "-created_at"
    )


@dataclass(frozen=True)
class RunStats:
    runs: int
    success_rate: float  # 0..100
    median_duration_seconds: float


def agent_run_stats(*, agent: Agent) -> RunStats:
    """Run figures for the agent page: counts kept on the agent, median over its latest
    successful runs (bounded, so the page cost does not grow with the agent's history)."""
    rate = 100.0 * agent.runs_succeeded / agent.runs_total if agent.runs_total else 0.0
    durations = sorted(
        agent.runs.filter(status="succeeded", duration_ms__isnull=False)
        .order_by("-id")
        .values_list("duration_ms", flat=True)[:1000]
    )
    median = 0.0
    if durations:
        mid = len(durations) // 2
        ms = durations[mid] if len(durations) % 2 else (durations[mid - 1] + durations[mid]) / 2
        median = round(ms / 1000, 2)
    return RunStats(
        runs=agent.runs_total, success_rate=round(rate, 1), median_duration_seconds=median
    )

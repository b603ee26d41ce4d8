"""The agent catalog: categories, agents, their immutable versions, and reviews."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F

# semver.org's reference pattern (MAJOR.MINOR.PATCH, optional pre-release and build).
SEMVER_RE = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
semver_validator = RegexValidator(SEMVER_RE, "Use semantic versioning, for example 1.4.2.")

# Platform caps from the specification: 8 GB memory, 4 CPUs, 30 minutes per run.
MAX_MEMORY_MB = 8192
MAX_CPUS = Decimal("4")
MAX_TIMEOUT_SECONDS = 1800


class Category(models.Model):
    """A catalog category (General, Crypto, AI/ML, Automation). Compliance rules refer to it."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Currency(models.TextChoices):
    USDC = "USDC", "USDC"
    ETH = "ETH", "ETH"


# Listed = shown in the catalog (and buyable, unless under maintenance): active or under
# maintenance, with a version to run. Deprecated and suspended agents keep their page only.
LISTED_STATUSES = ("active", "maintenance")
LISTED = models.Q(status__in=LISTED_STATUSES) & models.Q(current_version__isnull=False)


class Agent(models.Model):
    """A listed agent. What runs is its `current_version`; older versions stay immutable."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        MAINTENANCE = "maintenance", "Under maintenance"
        DEPRECATED = "deprecated", "Deprecated"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=80)
    summary = models.CharField(max_length=160)
    description = models.TextField(help_text="Markdown; rendered with a safe subset of HTML.")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="agents")
    tags = models.JSONField(default=list, blank=True)
    developer = models.ForeignKey(
        "accounts.DeveloperProfile", on_delete=models.PROTECT, related_name="agents"
    )
    # Changed only through marketplace.services.agent_transition (AGENT_TRANSITIONS, AgentEvent).
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(
        blank=True, help_text="Why the agent is deprecated or suspended; shown on its page."
    )
    featured = models.BooleanField(default=False)
    current_version = models.ForeignKey(
        "AgentVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Copied from the current version by `agent_set_current_version`, so listings sort and
    # filter by price on an index of this table (docs/decisions/0002-catalog-search.md).
    list_price = models.DecimalField(max_digits=36, decimal_places=18, null=True, editable=False)
    # Kept by services (review_create/update, run completion) so listings never aggregate.
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    rating_count = models.PositiveIntegerField(default=0)
    runs_total = models.PositiveIntegerField(default=0)
    runs_succeeded = models.PositiveIntegerField(default=0)
    # Maintained by a PostgreSQL trigger (migration 0002); unused (NULL) on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # One partial index per catalog order: a page of results is an index walk, not a sort.
        indexes = [
            models.Index(*order, name=f"agent_listed_{label}", condition=LISTED)
            for label, order in {
                "featured": (
                    F("featured").desc(),
                    F("runs_total").desc(),
                    F("rating_avg").desc(),
                    "name",
                ),
                "popular": (F("runs_total").desc(), F("rating_avg").desc(), "name"),
                "rating": (F("rating_avg").desc(), F("rating_count").desc(), "name"),
                "price_asc": ("list_price", "name"),
                "price_desc": (F("list_price").desc(), "name"),
                "newest": (F("created_at").desc(), "name"),
            }.items()
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_listed(self) -> bool:
        return self.status in LISTED_STATUSES and self.current_version_id is not None


# Who may move an agent where is checked by agent_transition: a developer cannot lift a suspension.
AGENT_TRANSITIONS: dict[str, frozenset[str]] = {
    Agent.Status.ACTIVE: frozenset(
        {Agent.Status.MAINTENANCE, Agent.Status.DEPRECATED, Agent.Status.SUSPENDED}
    ),
    Agent.Status.MAINTENANCE: frozenset(
        {Agent.Status.ACTIVE, Agent.Status.DEPRECATED, Agent.Status.SUSPENDED}
    ),
    Agent.Status.DEPRECATED: frozenset({Agent.Status.ACTIVE, Agent.Status.SUSPENDED}),
    # Only back to active, by staff: going through "deprecated" would let the developer
    # reactivate an agent staff suspended.
    Agent.Status.SUSPENDED: frozenset({Agent.Status.ACTIVE}),
}
# Only staff may enter or leave these.
STAFF_ONLY_STATUSES = frozenset({Agent.Status.SUSPENDED})


class AgentVersion(models.Model):
    """One immutable release of an agent: image, interface schemas, limits and price."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64, validators=[semver_validator])
    changelog = models.TextField(blank=True)
    image_ref = models.CharField(max_length=255, help_text="Container image reference.")
    input_schema = models.JSONField(help_text="JSON Schema (draft 2020-12) of the run input.")
    output_schema = models.JSONField(help_text="JSON Schema (draft 2020-12) of the run output.")
    example_input = models.JSONField(default=dict, blank=True)
    memory_mb = models.PositiveIntegerField(
        default=512, validators=[MinValueValidator(64), MaxValueValidator(MAX_MEMORY_MB)]
    )
    cpus = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_CPUS)],
    )
    timeout_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_SECONDS)]
    )
    price = models.DecimalField(
        max_digits=36,
        decimal_places=18,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Price per run, in `currency`.",
    )
    currency = models.CharField(max_length=8, choices=Currency.choices, default=Currency.USDC)
    # The approved agent.yaml (agents.manifest, normalized): permissions (network, secrets,
    # minimum KYC level, blocked regions), safety profile, homepage. Empty for seeded versions.
    manifest = models.JSONField(default=dict, blank=True, editable=False)
    # Set once by agent_version_deprecate: new runs cannot pick it; runs in progress finish.
    deprecated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "version"], name="agentversion_unique_semver"),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="agentversion_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent.slug}@{self.version}"

    @property
    def is_deprecated(self) -> bool:
        return self.deprecated_at is not None

    @property
    def permissions(self) -> dict:
        """The approved manifest's permissions: network, secrets, min_kyc_level,
        blocked_regions ({} for versions published before the pipeline)."""
        return (self.manifest or {}).get("permissions") or {}


class Review(models.Model):
    """One review per user per agent; the agent's average and count follow every change."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "author"], name="review_one_per_user"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.agent} by {self.author}"


class AgentEvent(models.Model):
    """Append-only history of an agent's status changes and version deprecations (who, why)."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status changed"
        VERSION_DEPRECATED = "version_deprecated", "Version deprecated"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    version = models.ForeignKey(
        AgentVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=12, choices=Agent.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Agent.Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        if self.kind == self.Kind.VERSION_DEPRECATED:
            return f"{self.agent_id}: version deprecated"
        return f"{self.agent_id}: {self.from_status} -> {self.to_status}"

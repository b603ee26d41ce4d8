"""API serializers. Names are globally unique so OpenAPI components never collide."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.models import Agent, AgentVersion, Category, Review
from marketplace.selectors import CatalogQuery, Sort, agent_run_stats


class CatalogQueryInputSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.SlugField(required=False, allow_blank=True)
    min_price = serializers.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=18, decimal_places=6
    )
    max_price = serializers.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=18, decimal_places=6
    )
    ordering = serializers.ChoiceField(
        required=False, choices=[value for value, _ in Sort.CHOICES], default=Sort.RELEVANCE
    )

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": "Must be at least min_price."})
        return attrs

    def to_query(self) -> CatalogQuery:
        data = self.validated_data
        return CatalogQuery(
            text=data.get("search", ""),
            category=data.get("category", ""),
            min_price=data.get("min_price"),
            max_price=data.get("max_price"),
            sort=data["ordering"],
        )


class CategoryOutputSerializer(serializers.ModelSerializer):
    agent_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["slug", "name", "description", "agent_count"]


class PriceOutputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=36, decimal_places=18, source="price")
    currency = serializers.CharField()


class DeveloperSummaryOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    display_name = serializers.CharField()
    verified = serializers.BooleanField()


class AgentListOutputSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    developer = DeveloperSummaryOutputSerializer(read_only=True)
    version = serializers.CharField(source="current_version.version", read_only=True)
    price = PriceOutputSerializer(source="current_version", read_only=True)
    rating = serializers.DecimalField(source="rating_avg", max_digits=3, decimal_places=2)
    url = serializers.HyperlinkedIdentityField(
        view_name="api:agent-detail", lookup_field="slug", read_only=True
    )

    class Meta:
        model = Agent
        fields = [
            "slug", "name", "summary", "category", "tags", "status", "featured", "developer",
            "version", "price", "rating", "rating_count", "runs_total", "url",
        ]  # fmt: skip


class SecretOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class PermissionsOutputSerializer(serializers.Serializer):
    network = serializers.JSONField(
        help_text='"none", or {"egress": [hosts]} (recorded and shown; not enforced yet).'
    )
    secrets = SecretOutputSerializer(many=True, help_text="Secrets a run must be given.")
    min_kyc_level = serializers.IntegerField()
    blocked_regions = serializers.ListField(
        child=serializers.CharField(), help_text="ISO 3166-1 alpha-2 countries not served."
    )


class SafetyOutputSerializer(serializers.Serializer):
    max_trade_pct_of_portfolio = serializers.FloatField()
    stop_loss_required = serializers.BooleanField()
    max_daily_loss_pct = serializers.FloatField(required=False)
    max_drawdown_pct = serializers.FloatField(required=False)


class AgentVersionOutputSerializer(serializers.ModelSerializer):
    price = PriceOutputSerializer(source="*", read_only=True)
    permissions = serializers.SerializerMethodField()
    safety = serializers.SerializerMethodField()

    class Meta:
        model = AgentVersion
        fields = [
            "version", "changelog", "image_ref", "input_schema", "output_schema",
            "example_input", "memory_mb", "cpus", "timeout_seconds", "price", "permissions",
            "safety", "created_at",
        ]  # fmt: skip

    @extend_schema_field(PermissionsOutputSerializer(allow_null=True))
    def get_permissions(self, version: AgentVersion) -> dict | None:
        """From the approved manifest; null for versions published before the pipeline."""
        return version.permissions or None

    @extend_schema_field(SafetyOutputSerializer(allow_null=True))
    def get_safety(self, version: AgentVersion) -> dict | None:
        """The trading safety profile, when the manifest declares one."""
        return (version.manifest or {}).get("safety")


class RunStatsOutputSerializer(serializers.Serializer):
    runs = serializers.IntegerField()
    success_rate = serializers.FloatField(help_text="Percentage of finished runs that succeeded.")
    median_duration_seconds = serializers.FloatField()


class AgentDetailOutputSerializer(AgentListOutputSerializer):
    description = serializers.CharField(help_text="Markdown.")
    current_version = AgentVersionOutputSerializer(read_only=True)
    stats = serializers.SerializerMethodField()

    class Meta(AgentListOutputSerializer.Meta):
        fields = [
            *AgentListOutputSerializer.Meta.fields, "description", "current_version", "stats",
            "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(RunStatsOutputSerializer)
    def get_stats(self, agent: Agent) -> dict:
        return RunStatsOutputSerializer(agent_run_stats(agent=agent)).data


class ReviewOutputSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.public_name", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "author", "rating", "body", "created_at", "updated_at"]


class ReviewCreateInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    body = serializers.CharField(min_length=3, max_length=2000)


class CurrentUserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    role = serializers.ChoiceField(choices=["user", "developer", "staff"])
    theme = serializers.CharField()
    notifications = serializers.CharField()
    developer = DeveloperSummaryOutputSerializer(
        source="developer_profile", allow_null=True, default=None
    )
    date_joined = serializers.DateTimeField()

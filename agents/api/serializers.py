"""Developer API serializers. Names start with Developer/Submission so OpenAPI components never
collide with the catalog's (marketplace/api/serializers.py)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.models import (
    ScanFinding,
    SmokeResult,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionStep,
    SubmissionStepLog,
)
from marketplace.models import Agent

# ------------------------------------------------------------------------------ profile


class DeveloperProfileOutputSerializer(serializers.Serializer):
    slug = serializers.CharField(source="developer.slug")
    display_name = serializers.CharField(source="developer.display_name")
    verified = serializers.BooleanField(source="developer.verified")
    payout_address = serializers.CharField(
        allow_null=True,
        help_text="Where the escrow pays your earnings; null until set. Set it to one of your "
        "linked wallets with POST /api/v1/developer/payout/.",
    )
    payout_wallet_linked = serializers.BooleanField(
        help_text="Whether the payout address is one of your linked (signed-for) wallets."
    )
    agent_count = serializers.IntegerField()
    submission_count = serializers.IntegerField()
    submissions_pending = serializers.IntegerField(
        help_text="Submissions not yet approved, rejected or failed (in the pipeline or in review)."
    )
    created_at = serializers.DateTimeField(source="developer.created_at")


# ------------------------------------------------------------------------------ agents


class DeveloperFailureReasonOutputSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class DeveloperVersionStatsOutputSerializer(serializers.Serializer):
    runs = serializers.IntegerField(help_text="All runs of this version.")
    success_rate = serializers.FloatField(
        allow_null=True, help_text="Percentage of the runs that succeeded; null without runs."
    )
    median_s = serializers.FloatField(
        allow_null=True, help_text="Median duration of the successful runs among the last 1,000."
    )
    p95_s = serializers.FloatField(
        allow_null=True, help_text="95th percentile of the same durations, in seconds."
    )
    top_errors = serializers.SerializerMethodField(
        help_text="The most common failure reasons among the last 1,000 runs (at most 3)."
    )

    @extend_schema_field(DeveloperFailureReasonOutputSerializer(many=True))
    def get_top_errors(self, row: dict) -> list[dict]:
        return [{"reason": reason, "count": count} for reason, count in row["reasons"]]


class DeveloperAgentVersionOutputSerializer(serializers.Serializer):
    version = serializers.CharField(source="version.version")
    created_at = serializers.DateTimeField(source="version.created_at")
    price = serializers.DecimalField(
        source="version.price", max_digits=36, decimal_places=18, help_text="Per run."
    )
    currency = serializers.CharField(source="version.currency")
    image_ref = serializers.CharField(source="version.image_ref")
    deprecated = serializers.BooleanField(source="version.is_deprecated")
    deprecated_at = serializers.DateTimeField(source="version.deprecated_at", allow_null=True)
    stats = DeveloperVersionStatsOutputSerializer(source="*")


class DeveloperAgentOutputSerializer(serializers.Serializer):
    slug = serializers.CharField(source="agent.slug")
    name = serializers.CharField(source="agent.name")
    summary = serializers.CharField(source="agent.summary")
    category = serializers.CharField(source="agent.category.slug")
    status = serializers.ChoiceField(source="agent.status", choices=Agent.Status.choices)
    status_reason = serializers.CharField(source="agent.status_reason")
    current_version = serializers.CharField(
        source="agent.current_version.version", allow_null=True, default=None
    )
    runs_total = serializers.IntegerField(source="agent.runs_total")
    rating = serializers.DecimalField(source="agent.rating_avg", max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField(source="agent.rating_count")
    created_at = serializers.DateTimeField(source="agent.created_at")
    updated_at = serializers.DateTimeField(source="agent.updated_at")
    versions = DeveloperAgentVersionOutputSerializer(many=True, help_text="Newest first.")


class DeveloperDeprecateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        default="",
        help_text="Why; shown to buyers on the agent's page (for an agent).",
    )


# ------------------------------------------------------------------------------ submissions


class SubmissionCreateInputSerializer(serializers.Serializer):
    archive = serializers.FileField(
        help_text="The build context: a .tar.gz with agent.yaml and the Dockerfile at its root "
        "(docs/agent-manifest.md)."
    )
    agent = serializers.SlugField(
        required=False,
        allow_blank=True,
        help_text="The slug of one of your agents, to submit its next version; omit for a new agent.",
    )


class SubmissionOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agent = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The agent this is a version of; null for a new agent until it is approved.",
    )
    failed_step = serializers.ChoiceField(
        choices=SubmissionStep.choices,
        allow_blank=True,
        read_only=True,
        help_text="The pipeline step that failed; empty unless the status is failed.",
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id", "agent", "slug", "version", "status", "failed_step", "error_message",
            "image_ref", "created_at", "updated_at", "reviewed_at", "url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_url(self, submission: Submission) -> str:
        request = self.context.get("request")
        path = f"/api/v1/developer/submissions/{submission.public_id}/"
        return request.build_absolute_uri(path) if request else path


class SubmissionFindingOutputSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_name")

    class Meta:
        model = ScanFinding
        fields = ["check", "severity", "message", "created_at"]
        read_only_fields = fields


class SubmissionSmokeResultOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SmokeResult
        fields = ["example_index", "status", "input", "output", "error", "duration_ms"]
        read_only_fields = fields


class SubmissionEventOutputSerializer(serializers.ModelSerializer):
    from_status = serializers.ChoiceField(
        choices=SubmissionStatus.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty for the first event.",
    )
    at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = SubmissionEvent
        fields = ["from_status", "to_status", "message", "at"]
        read_only_fields = fields


class SubmissionDetailOutputSerializer(SubmissionOutputSerializer):
    feedback = serializers.CharField(read_only=True, help_text="The reviewer's, on rejection.")
    manifest = serializers.JSONField(read_only=True, help_text="The validated agent.yaml.")
    findings = SubmissionFindingOutputSerializer(many=True, read_only=True)
    smoke_results = SubmissionSmokeResultOutputSerializer(many=True, read_only=True)
    events = SubmissionEventOutputSerializer(
        many=True, read_only=True, help_text="The status history, oldest first."
    )
    logs_url = serializers.SerializerMethodField()

    class Meta(SubmissionOutputSerializer.Meta):
        fields = [
            *SubmissionOutputSerializer.Meta.fields, "feedback", "archive_size", "archive_sha256",
            "manifest", "findings", "smoke_results", "events", "logs_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_logs_url(self, submission: Submission) -> str:
        request = self.context.get("request")
        path = f"/api/v1/developer/submissions/{submission.public_id}/logs/"
        return request.build_absolute_uri(path) if request else path


class SubmissionLogsQueryInputSerializer(serializers.Serializer):
    after = serializers.IntegerField(
        required=False, min_value=0, default=0, help_text="Lines after this sequence number."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=500)


class SubmissionLogLineOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubmissionStepLog
        fields = ["seq", "step", "line"]
        read_only_fields = fields


class SubmissionLogsOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SubmissionStatus.choices,
        help_text="The submission's status now: stop polling once it is approved, rejected "
        "or failed.",
    )
    lines = SubmissionLogLineOutputSerializer(many=True)
    next_after = serializers.IntegerField(
        help_text="Pass as `after` to get the next lines (the last line's seq, or `after`)."
    )


# ------------------------------------------------------------------------------ earnings


class DeveloperEarningsQueryInputSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, min_value=1, max_value=366, default=30, help_text="Days of `per_day`."
    )


class DeveloperEarningsAgentOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField(source="agent")
    currency = serializers.CharField()
    runs = serializers.IntegerField(help_text="Runs released to you.")
    amount = serializers.DecimalField(
        max_digits=60, decimal_places=18, help_text="Your share, in the currency's units."
    )


class DeveloperEarningsDayOutputSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="UTC.")
    currency = serializers.CharField()
    runs = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=60, decimal_places=18)


class DeveloperEarningsOutputSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    per_agent = DeveloperEarningsAgentOutputSerializer(
        many=True, help_text="All time, per agent and currency."
    )
    per_day = DeveloperEarningsDayOutputSerializer(
        many=True, help_text="The last `days` days, newest first."
    )


class PayoutInputSerializer(serializers.Serializer):
    wallet = serializers.IntegerField(help_text="The id of one of your linked wallets.")

"""Run API serializers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from runtime.models import Run, RunEvent


class RunCreateInputSerializer(serializers.Serializer):
    agent = serializers.SlugField(help_text="The agent's slug.")
    version = serializers.CharField(
        required=False, max_length=64, help_text="A version of the agent; default: its current one."
    )
    input = serializers.JSONField(help_text="Validated against the version's input schema.")
    secrets = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="Values for the secrets the agent asks for. Sent only to the agent; never stored "
        "in clear text, never returned.",
    )


class RunSettlementOutputSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="release (to the developer) or refund (to you); empty while the run is in progress."
    )
    status = serializers.CharField(help_text="reserved, pending, submitted, confirmed or failed.")
    tx_hash = serializers.CharField()
    purchase = serializers.UUIDField(source="purchase.public_id")


class RunOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    events_url = serializers.SerializerMethodField()
    stream_url = serializers.SerializerMethodField()
    settlement = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "agent",
            "version",
            "status",
            "failure_reason",
            "error_code",
            "error_message",
            "progress",
            "input",
            "output",
            "logs_truncated",
            "duration_ms",
            "peak_memory_bytes",
            "exit_code",
            "created_at",
            "started_at",
            "finished_at",
            "last_seq",
            "events_url",
            "stream_url",
            "settlement",
        ]
        read_only_fields = fields

    def get_events_url(self, run: Run) -> str:
        request = self.context.get("request")
        path = f"/api/v1/runs/{run.public_id}/events/"
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(RunSettlementOutputSerializer(allow_null=True))
    def get_settlement(self, run: Run) -> dict | None:
        """How the run is paid for: null for free agents."""
        settlement = getattr(run, "settlement", None) if hasattr(run, "settlement") else None
        return RunSettlementOutputSerializer(settlement).data if settlement else None

    def get_stream_url(self, run: Run) -> str:
        return f"/ws/runs/{run.public_id}/"


class RunEventOutputSerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = RunEvent
        fields = ["seq", "type", "at", "payload"]
        read_only_fields = fields


class RunListQueryInputSerializer(serializers.Serializer):
    agent = serializers.SlugField(required=False)
    status = serializers.ChoiceField(required=False, choices=Run._meta.get_field("status").choices)


class RunEventsQueryInputSerializer(serializers.Serializer):
    after = serializers.IntegerField(required=False, min_value=0, default=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=500)

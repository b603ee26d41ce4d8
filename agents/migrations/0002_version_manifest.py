"""Copy each approved submission's manifest onto the version it published (AgentVersion.manifest
now carries permissions and the safety profile for the gate and the agent page)."""

from django.db import migrations


def copy_manifests(apps, schema_editor):
    Submission = apps.get_model("agents", "Submission")
    AgentVersion = apps.get_model("marketplace", "AgentVersion")
    for version_id, manifest in Submission.objects.filter(
        status="approved", agent_version__isnull=False
    ).values_list("agent_version_id", "manifest"):
        AgentVersion.objects.filter(pk=version_id).update(manifest=manifest or {})


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_initial"),
        ("marketplace", "0003_agent_suspension"),
    ]

    operations = [migrations.RunPython(copy_manifests, migrations.RunPython.noop)]

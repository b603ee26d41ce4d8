#!/usr/bin/env python
"""Submission pipeline: how long an agent takes from upload to "pending review", per step.

    DATABASE_URL=postgres://dev:dev@127.0.0.1:5432/agentnexus_pipebench \
    REDIS_URL=redis://127.0.0.1:6379/4 \
    .venv/bin/python bench/pipeline.py [--rounds 5] [--agent echo] [--json PATH]

Setup: the agent base images (scripts/docker_images.sh --base-only), the database (migrated here),
a bench developer. Each round submits agents/catalog/<agent> under a fresh slug through
`submission_create` and runs the steps in this process (Celery eager, as `catalog_publish` does),
then reads the step durations from the submission's event rows: build (submitted -> scanning),
scan (scanning -> smoke_testing), smoke test (smoke_testing -> pending_review) and the total from
upload to pending review. Round 1 builds on a cold layer cache for this context only if the
agent's files changed; every round gets its own tag. The images are removed afterwards.
Writes bench/results/pipeline.json. Exit status 1 when a submission did not reach review.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "bench" / "results" / "pipeline.json"
sys.path.insert(0, str(REPO))


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentnexus.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_s": round(statistics.median(ordered), 2),
        "p95_s": round(p95, 2),
        "min_s": round(ordered[0], 2),
        "max_s": round(ordered[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--agent", default="echo")
    parser.add_argument("--json", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    _django()

    import yaml

    from agentnexus.celery import app
    from agents.catalog_publish import catalog_archive, catalog_developer
    from agents.models import Submission, SubmissionStatus
    from agents.services import submission_create
    from marketplace.models import Category
    from runtime.backends.base import get_backend

    directory = REPO / "agents" / "catalog" / args.agent
    manifest = yaml.safe_load((directory / "agent.yaml").read_text())
    Category.objects.get_or_create(
        slug=manifest["category"], defaults={"name": manifest["category"].title()}
    )
    developer = catalog_developer(email="pipeline-bench@agentnexus.local")
    app.conf.task_always_eager = True
    rows, failures, images = [], [], []
    try:
        for index in range(args.rounds):
            slug = f"bench-{args.agent}-{uuid.uuid4().hex[:8]}"
            manifest["slug"] = slug
            files = catalog_archive(directory=directory)
            archive = _with_manifest(files, yaml.safe_dump(manifest, sort_keys=False))
            started = time.monotonic()
            submission = submission_create(developer=developer, archive_fileobj=archive)
            wall = time.monotonic() - started
            submission = Submission.objects.get(pk=submission.pk)
            images.append(submission.image_ref)
            if submission.status != SubmissionStatus.PENDING_REVIEW:
                failures.append(f"{slug}: {submission.status} {submission.error_message}")
                continue
            at = {e.to_status: e.created_at for e in submission.events.all()}
            row = {
                "build_s": (at["scanning"] - at["submitted"]).total_seconds(),
                "scan_s": (at["smoke_testing"] - at["scanning"]).total_seconds(),
                "smoke_s": (at["pending_review"] - at["smoke_testing"]).total_seconds(),
                "total_s": wall,
            }
            rows.append(row)
            print(f"round {index + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()))
    finally:
        for image in images:
            if image:
                get_backend().remove_image(image)
    if not rows:
        print("no submission reached review:", *failures, sep="\n  ")
        return 1
    result = {
        "agent": args.agent,
        "rounds": len(rows),
        "examples": len(manifest.get("examples") or []),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **{key: _summary([r[key] for r in rows]) for key in rows[0]},
        "failures": failures,
    }
    print(json.dumps(result, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if failures else 0


def _with_manifest(archive, manifest_text: str):
    """The catalog archive with agent.yaml replaced (a fresh slug per round)."""
    import io
    import tarfile

    archive.seek(0)
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=archive, mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w:gz") as target,
    ):
        for member in source.getmembers():
            if member.name.lstrip("./") == "agent.yaml":
                data = manifest_text.encode()
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
            else:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    out.seek(0)
    return out


if __name__ == "__main__":
    sys.exit(main())

"""Each crafted bad submission is rejected through the whole intake and pipeline, with a clear
reason, and never reaches the catalog or the chain; its image is deleted. Archive problems are
refused at upload (nothing stored); image problems fail the scan; agent problems fail the smoke
test. Real PostgreSQL and the real Docker engine (the checks themselves: test_scan, test_archive).
"""

from __future__ import annotations

import io
import tarfile

import pytest

from agentnexus.core.errors import ApplicationError
from agents.models import Submission, SubmissionStatus, SubmissionStep
from agents.services import submission_create
from agents.tests.test_pipeline import built_images, developer, echo_files, targz  # noqa: F401
from marketplace.models import Agent
from payments.models import ChainAgent
from runtime.backends.base import get_backend

SDK_APP = """
from agentnexus_sdk import agent


@agent
def handle(input, ctx):
{body}


if __name__ == "__main__":
    handle.serve()
"""
# A key-shaped file: the scanner looks for the PEM header, whatever the body.
FAKE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0000\n-----END RSA PRIVATE KEY-----\n"


def dockerfile(*extra: str) -> str:
    """The echo agent's Dockerfile with `extra` instructions appended."""
    base = echo_files()["Dockerfile"].decode().rstrip("\n")
    return "\n".join([base, *extra]) + "\n"


# slug, changes to the echo build context, the step that fails, what the failure says
IMAGE_AND_AGENT_CASES = [
    ("runs-as-root", {"Dockerfile": lambda: dockerfile("USER root")}, "scan", "user"),
    (
        "setuid-binary",
        {
            "Dockerfile": lambda: dockerfile(
                "USER root",
                "RUN cp /bin/true /usr/local/bin/helper && chmod u+s /usr/local/bin/helper",
                "USER 10001",
            )
        },
        "scan",
        "setuid",
    ),
    (
        "embedded-key",
        {
            "id_rsa": lambda: FAKE_KEY,
            "Dockerfile": lambda: dockerfile("COPY id_rsa /app/id_rsa"),
        },
        "scan",
        "secrets",
    ),
    (
        "smoke-error",
        {"app.py": lambda: SDK_APP.format(body='    raise RuntimeError("upstream unavailable")')},
        "smoke",
        "upstream unavailable",
    ),
    (
        "smoke-bad-output",
        {"app.py": lambda: SDK_APP.format(body='    return {"greeting": None, "echo": input}')},
        "smoke",
        "greeting",
    ),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("slug", "changes", "step", "says"), IMAGE_AND_AGENT_CASES)
def test_a_bad_image_or_agent_fails_its_step_and_is_never_listed(
    example_images,
    developer,  # noqa: F811
    built_images,  # noqa: F811
    slug,
    changes,
    step,
    says,
):
    files = echo_files(slug=slug)
    files.update({name: make() for name, make in changes.items()})

    submission = submission_create(developer=developer, archive_fileobj=targz(files))

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILED, submission.status
    assert submission.failed_step == step
    if step == SubmissionStep.SCAN:
        critical = submission.findings.filter(severity="critical")
        assert says in set(critical.values_list("check_name", flat=True)), list(critical.values())
        assert not submission.smoke_results.exists(), "a critical finding stops the pipeline"
    else:
        assert says in submission.error_message, submission.error_message
    assert submission.log_lines.filter(step=step, line__startswith="FAILED:").exists()
    assert not Agent.objects.filter(slug=slug).exists()
    assert not ChainAgent.objects.exists()
    assert submission.image_ref and not get_backend().image_exists(submission.image_ref), (
        "the failed submission's image is deleted"
    )


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buffer.seek(0)
    return buffer


def _files(extra: list[tuple[tarfile.TarInfo, bytes | None]]) -> io.BytesIO:
    members = []
    for name, content in echo_files(slug="crafted").items():
        data = content.encode() if isinstance(content, str) else content
        info = tarfile.TarInfo(name)
        info.size = len(data)
        members.append((info, data))
    return _tar(members + extra)


def _regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _symlink(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, None


ARCHIVE_CASES = [
    ("path traversal", [_regular("../../etc/cron.d/evil", b"x")], "'..'"),
    ("symlink escape", [_symlink("escape", "../../../../etc")], "outside"),
    ("absolute symlink", [_symlink("passwd", "/etc/passwd")], "relative"),
    ("oversized context", [_regular("weights.bin", b"\0" * (3 * 1024 * 1024))], "larger than"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "extra", "says"), ARCHIVE_CASES)
def test_a_crafted_archive_is_refused_at_upload_naming_the_archive(
    developer,  # noqa: F811
    settings,
    label,
    extra,
    says,
):
    settings.AGENTS_MAX_CONTEXT_BYTES = 2 * 1024 * 1024
    with pytest.raises(ApplicationError) as refused:
        submission_create(developer=developer, archive_fileobj=_files(extra))
    assert says in " ".join(refused.value.fields["archive"]), refused.value.fields
    assert not Submission.objects.exists(), f"{label}: nothing is stored"


@pytest.mark.django_db
def test_an_oversized_upload_is_refused_before_it_is_read_whole(developer, settings):  # noqa: F811
    settings.AGENTS_MAX_ARCHIVE_BYTES = 1024
    with pytest.raises(ApplicationError) as refused:
        submission_create(
            developer=developer, archive_fileobj=io.BytesIO(b"\x1f\x8b" + b"x" * 4096)
        )
    assert "larger than" in refused.value.fields["archive"][0]
    assert not Submission.objects.exists()

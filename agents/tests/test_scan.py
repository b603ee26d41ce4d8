"""Static image checks on tiny crafted images built FROM agentnexus/agent-python:1 (real Docker,
network none, through the backend's build_image)."""

from __future__ import annotations

import stat

import pytest

from agents.scan import (
    CHECK_ENTRYPOINT,
    CHECK_LABELS,
    CHECK_SECRETS,
    CHECK_SETUID,
    CHECK_SIZE,
    CHECK_USER,
    Finding,
    has_critical,
    image_scan,
)

BASE = "agentnexus/agent-python:1"
REPO = "agentnexus/test-scan"
MANIFEST = {"slug": "scan-demo", "version": "1.0.0"}
# Built at run time so this file holds no key-shaped literal.
FAKE_KEY = (
    "-----BEGIN "
    + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
)
FAKE_AWS_ID = "AKIA" + "Z" * 4 + "EXAMPLE" + "AB12C"  # 4 + 16 characters

CLEAN = f"""
FROM {BASE}
USER root
RUN find / -xdev -perm /6000 -type f -exec chmod a-s {{}} +
COPY app.py /app/app.py
LABEL org.agentnexus.slug=scan-demo org.agentnexus.version=1.0.0
USER 10001:10001
CMD ["python3", "-m", "app"]
"""
VARIANTS = {
    "root": "USER root\n",
    "setuid": "USER root\nRUN cp /bin/true /app/tool && chmod u+s /app/tool\nUSER 10001\n",
    "setuid-removed": "USER root\nRUN cp /bin/true /app/gone && chmod g+s /app/gone\n"
    "RUN rm /app/gone\nUSER 10001\n",
    "key": "COPY id_key /app/id_key\nCOPY settings.py /app/settings.py\n"
    "USER root\nRUN rm /app/id_key\nUSER 10001\n",
    "no-entrypoint": 'CMD ["/app/does-not-exist"]\n',
    "not-executable": 'CMD ["/app/app.py"]\n',
    "labels": "LABEL org.agentnexus.version=9.9.9\n",
}


@pytest.fixture(scope="module")
def backend(runtime_images):  # runtime_images: the base images exist (or the test is skipped)
    from runtime.backends.docker import DockerBackend

    return DockerBackend(socket_root="/tmp/agentnexus-test-build")


@pytest.fixture(scope="module")
def images(backend, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("scan-images")
    built = {}

    def build(name: str, dockerfile: str) -> str:
        context = root / name
        context.mkdir()
        (context / "Dockerfile").write_text(dockerfile)
        (context / "app.py").write_text("print('hello')\n")
        (context / "id_key").write_text(FAKE_KEY)
        (context / "settings.py").write_text(f"AWS_KEY = '{FAKE_AWS_ID}'\n")
        tag = f"{REPO}:{name}"
        backend.build_image(context_dir=context, tag=tag, labels={"agentnexus.test": "1"})
        return tag

    built["clean"] = build("clean", CLEAN)
    for name, tail in VARIANTS.items():
        built[name] = build(name, f"FROM {built['clean']}\n{tail}")
    return built


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def critical(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in by_check(findings, check) if f.severity == "critical"]


def test_clean_image_passes_every_check(backend, images):
    findings = image_scan(image=images["clean"], manifest=MANIFEST, backend=backend)
    assert not has_critical(findings), [f.message for f in findings if f.severity == "critical"]
    checks = {f.check for f in findings}
    assert checks == {
        CHECK_USER,
        CHECK_SETUID,
        CHECK_SIZE,
        CHECK_SECRETS,
        CHECK_ENTRYPOINT,
        CHECK_LABELS,
    }
    assert "python3" in by_check(findings, CHECK_ENTRYPOINT)[0].message


def test_example_agent_image_is_clean(backend, example_images):
    """The platform's base image strips Debian's setuid binaries (runtime/images/agent-python), so
    an agent built FROM it plainly passes."""
    findings = image_scan(
        image=example_images["echo"], manifest={"slug": "echo", "version": "1.0.0"}, backend=backend
    )
    assert not has_critical(findings), [f.message for f in findings if f.severity == "critical"]


def test_root_user(backend, images):
    findings = image_scan(image=images["root"], manifest=MANIFEST, backend=backend)
    (finding,) = critical(findings, CHECK_USER)
    assert "root" in finding.message


def test_setuid_binary(backend, images):
    findings = image_scan(image=images["setuid"], manifest=MANIFEST, backend=backend)
    messages = [f.message for f in critical(findings, CHECK_SETUID)]
    assert len(messages) == 1 and messages[0].startswith("/app/tool (setuid, mode 4755)")


def test_setuid_file_deleted_by_a_later_layer_is_gone(backend, images):
    findings = image_scan(image=images["setuid-removed"], manifest=MANIFEST, backend=backend)
    assert not critical(findings, CHECK_SETUID)


def test_embedded_private_key_even_when_deleted_later(backend, images):
    findings = image_scan(image=images["key"], manifest=MANIFEST, backend=backend)
    messages = [f.message for f in critical(findings, CHECK_SECRETS)]
    assert any(m.startswith("/app/id_key (line 1): contains a private key") for m in messages)
    assert any(
        m.startswith("/app/settings.py (line 1): contains an AWS access key id") for m in messages
    )
    assert not any(FAKE_AWS_ID in m or "b3BlbnNzaC1rZXk" in m for m in messages)  # never the secret


def test_missing_entrypoint(backend, images):
    findings = image_scan(image=images["no-entrypoint"], manifest=MANIFEST, backend=backend)
    (finding,) = critical(findings, CHECK_ENTRYPOINT)
    assert "/app/does-not-exist does not exist" in finding.message


def test_entrypoint_not_executable(backend, images):
    findings = image_scan(image=images["not-executable"], manifest=MANIFEST, backend=backend)
    (finding,) = critical(findings, CHECK_ENTRYPOINT)
    assert "not executable" in finding.message


def test_labels_must_match_manifest(backend, images):
    findings = image_scan(image=images["labels"], manifest=MANIFEST, backend=backend)
    (finding,) = critical(findings, CHECK_LABELS)
    assert "9.9.9" in finding.message and "1.0.0" in finding.message
    # a Manifest-like object works too
    other = type("M", (), {"slug": "other", "version": "9.9.9"})()
    findings = image_scan(image=images["labels"], manifest=other, backend=backend)
    assert [f.message for f in critical(findings, CHECK_LABELS)] == [
        "The image label org.agentnexus.slug='scan-demo' does not match the manifest's slug 'other'."
    ]


def test_image_size_limit(backend, images, settings):
    settings.AGENT_IMAGE_MAX_MB = 10
    findings = image_scan(image=images["clean"], manifest=MANIFEST, backend=backend)
    (finding,) = critical(findings, CHECK_SIZE)
    assert "limit is 10 MB" in finding.message


def test_image_files_merged_view_and_all_layers(backend, images):
    merged = {}
    contents = {}
    files = backend.image_files(images["key"])
    for path, mode, size, read in files:  # unpacks as a 4-tuple
        merged[path] = mode
        if path in ("/app/settings.py", "/app/app.py", "/usr/bin/python3"):
            contents[path] = (size, read(), read(5))
    assert "/app/id_key" not in merged  # deleted by a later layer
    assert contents["/app/settings.py"][1] == f"AWS_KEY = '{FAKE_AWS_ID}'\n".encode()
    assert stat.S_ISDIR(merged["/app"])
    assert stat.S_ISLNK(merged["/usr/bin/python3"]) and contents["/usr/bin/python3"][1]
    size, data, head = contents["/app/app.py"]
    assert stat.S_ISREG(merged["/app/app.py"]) and size == len(data) and head == b"print"
    iterator = backend.image_files(images["clean"])
    regular = next(f for f in iterator if stat.S_ISREG(f.mode) and f.size)
    iterator.close()
    with pytest.raises(RuntimeError, match="after the image_files"):
        regular.read()  # the iterator was closed, and its spool with it
    every = [f.path for f in backend.image_files(images["key"], all_layers=True)]
    assert "/app/id_key" in every


def test_image_inspect(backend, images):
    info = backend.image_inspect(images["clean"])
    assert info["user"] == "10001:10001"
    assert info["cmd"] == ["python3", "-m", "app"] and info["entrypoint"] is None
    assert info["labels"]["org.agentnexus.slug"] == "scan-demo"
    assert info["size"] > 0 and info["layers"] and info["working_dir"] == "/app"


def test_missing_image(backend):
    from runtime.backends.base import ImageNotFoundError

    with pytest.raises(ImageNotFoundError):
        backend.image_inspect("agentnexus/test-scan:does-not-exist")
    with pytest.raises(ImageNotFoundError):
        list(backend.image_files("agentnexus/test-scan:does-not-exist"))

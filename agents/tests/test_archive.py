"""Build-context extraction: the good archive extracts; each crafted bad one is refused."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from agents.archive import ArchiveError, archive_extract

MANIFEST = b"slug: demo\nversion: 1.0.0\n"
DOCKERFILE = b"FROM agentnexus/agent-python:1\nCOPY app.py /app/app.py\n"


def entry(name: str, data: bytes = b"", *, kind=tarfile.REGTYPE, link: str = "", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.linkname = link
    if kind == tarfile.REGTYPE:
        info.size = len(data)
    return info, data


def basic() -> list:
    return [
        entry("agent.yaml", MANIFEST),
        entry("Dockerfile", DOCKERFILE),
        entry("app.py", b"print('hi')\n"),
    ]


def make(entries: list, *, compress: bool = True) -> io.BytesIO:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    body = raw.getvalue()
    return io.BytesIO(gzip.compress(body) if compress else body)


def refused(tmp_path: Path, entries: list, fragment: str, **kwargs) -> ArchiveError:
    dest = tmp_path / "ctx"
    with pytest.raises(ArchiveError) as info:
        archive_extract(fileobj=make(entries), dest=dest, **kwargs)
    assert fragment in str(info.value), str(info.value)
    assert not dest.exists()  # cleaned up
    return info.value


def test_data_filter_is_available():
    assert hasattr(tarfile, "data_filter")


def test_good_context(tmp_path):
    entries = [
        *basic(),
        entry("pkg", kind=tarfile.DIRTYPE, mode=0o777),
        entry("pkg/mod.py", b"x = 1\n", mode=0o4777),
        entry("pkg/alias.py", kind=tarfile.SYMTYPE, link="mod.py"),
        entry("pkg/copy.py", kind=tarfile.LNKTYPE, link="pkg/mod.py"),
        entry("top", kind=tarfile.SYMTYPE, link="pkg/../app.py"),
    ]
    context = archive_extract(fileobj=make(entries), dest=tmp_path / "ctx")
    assert context == tmp_path / "ctx"
    assert (context / "agent.yaml").read_bytes() == MANIFEST
    assert (context / "pkg" / "alias.py").is_symlink()
    assert (context / "pkg" / "copy.py").read_bytes() == b"x = 1\n"
    assert not (context / "pkg" / "copy.py").is_symlink()
    mode = (context / "pkg" / "mod.py").stat().st_mode & 0o7777
    assert mode == 0o755  # no setuid, no group/other write
    assert (context / "pkg").stat().st_mode & 0o022 == 0


def test_plain_tar_and_wrapping_directory(tmp_path):
    entries = [entry("my-agent", kind=tarfile.DIRTYPE)] + [
        entry(f"my-agent/{info.name}", data) for info, data in basic()
    ]
    context = archive_extract(fileobj=make(entries, compress=False), dest=tmp_path / "ctx")
    assert context == tmp_path / "ctx" / "my-agent"


def test_custom_dockerfile_path_from_manifest(tmp_path):
    entries = [
        entry("agent.yaml", MANIFEST + b"dockerfile: docker/Dockerfile\n"),
        entry("docker/Dockerfile", DOCKERFILE),
    ]
    assert archive_extract(fileobj=make(entries), dest=tmp_path / "a").is_dir()
    entries = [entry("agent.yaml", MANIFEST + b"dockerfile: docker/Dockerfile\n"), *basic()[1:]]
    refused(tmp_path, entries, "docker/Dockerfile is missing")


def test_absolute_path(tmp_path):
    refused(tmp_path, [*basic(), entry("/etc/evil", b"x")], "/etc/evil: absolute paths")


def test_parent_traversal(tmp_path):
    error = refused(tmp_path, [*basic(), entry("a/../../evil", b"x")], "'..' is not allowed")
    assert error.member == "a/../../evil"
    assert not (tmp_path / "evil").exists()


def test_symlink_escape(tmp_path):
    refused(tmp_path, [*basic(), entry("out", kind=tarfile.SYMTYPE, link="/etc")], "relative")
    refused(tmp_path, [*basic(), entry("out", kind=tarfile.SYMTYPE, link="../..")], "outside")


def test_symlink_escape_through_a_later_link(tmp_path):
    # "y -> x/.." is inside while x does not exist; then "x -> ." makes y the parent directory.
    entries = [
        *basic(),
        entry("y", kind=tarfile.SYMTYPE, link="x/.."),
        entry("x", kind=tarfile.SYMTYPE, link="."),
    ]
    error = refused(tmp_path, entries, "outside the build context")
    assert error.member == "y"


def test_write_through_symlink(tmp_path):
    entries = [
        *basic(),
        entry("sub", kind=tarfile.DIRTYPE),
        entry("link", kind=tarfile.SYMTYPE, link="sub"),
        entry("link/file", b"x"),
    ]
    refused(tmp_path, entries, "goes through the symbolic link link")


def test_hardlink_outside_or_to_nothing(tmp_path):
    refused(tmp_path, [*basic(), entry("h", kind=tarfile.LNKTYPE, link="/etc/passwd")], "absolute")
    refused(tmp_path, [*basic(), entry("h", kind=tarfile.LNKTYPE, link="../x")], "'..'")
    refused(tmp_path, [*basic(), entry("h", kind=tarfile.LNKTYPE, link="nope")], "hard link")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_special_files(tmp_path, kind):
    refused(tmp_path, [*basic(), entry("dev", kind=kind)], "dev:")


def test_duplicate_member(tmp_path):
    refused(tmp_path, [*basic(), entry("app.py", b"again")], "appears twice")


def test_too_many_files(tmp_path):
    entries = basic() + [entry(f"f{i}.txt", b"") for i in range(10)]
    refused(tmp_path, entries, "more than 5 entries", max_files=5)


def test_oversized_context(tmp_path):
    big = [*basic(), entry("big.bin", b"\0" * (2 * 1024 * 1024))]
    refused(tmp_path, big, "larger than 1 MB", max_bytes=1024 * 1024)
    # many small files adding up
    many = basic() + [entry(f"f{i}", b"a" * 300_000) for i in range(5)]
    refused(tmp_path, many, "larger than 1 MB", max_bytes=1024 * 1024)


def test_pax_header_bomb_stops_while_reading(tmp_path):
    # A 5 MB PAX record (read into memory by tarfile) is cut off by the stream counter.
    info = tarfile.TarInfo("notes.txt")
    info.pax_headers = {"comment": "x" * (5 * 1024 * 1024)}
    entries = [*basic(), (info, b"")]
    refused(tmp_path, entries, "larger than 1 MB", max_bytes=1024 * 1024, max_files=10)


def test_compression_bomb_stops_early(tmp_path):
    # 200 MB of zeros compresses to ~200 KB; extraction stops near the limit.
    bomb = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=bomb, mode="wb") as gz,
        tarfile.open(fileobj=gz, mode="w|") as tar,
    ):
        for info, data in basic():
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("zeros")
        info.size = 200 * 1024 * 1024

        class Zeros(io.RawIOBase):
            left = info.size

            def readable(self):
                return True

            def readinto(self, b):
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n

        tar.addfile(info, io.BufferedReader(Zeros()))
    bomb.seek(0)
    with pytest.raises(ArchiveError, match="larger than 1 MB"):
        archive_extract(fileobj=bomb, dest=tmp_path / "ctx", max_bytes=1024 * 1024)


def test_missing_manifest_or_dockerfile(tmp_path):
    refused(tmp_path, basic()[1:], "agent.yaml is missing")
    refused(tmp_path, [basic()[0], basic()[2]], "Dockerfile is missing")
    refused(
        tmp_path,
        [
            entry("real.yaml", MANIFEST),
            entry("agent.yaml", kind=tarfile.SYMTYPE, link="real.yaml"),
            *basic()[1:],
        ],
        "agent.yaml must be a regular file",
    )


def test_not_an_archive(tmp_path):
    with pytest.raises(ArchiveError, match="not a valid"):
        archive_extract(fileobj=io.BytesIO(b"\x1f\x8bnot gzip at all"), dest=tmp_path / "a")
    with pytest.raises(ArchiveError):
        archive_extract(fileobj=io.BytesIO(b"hello world" * 100), dest=tmp_path / "b")


def test_dest_must_be_empty(tmp_path):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "x").write_text("x")
    with pytest.raises(ValueError, match="empty"):
        archive_extract(fileobj=make(basic()), dest=tmp_path / "ctx")

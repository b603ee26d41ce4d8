"""Safe extraction of an uploaded build context (.tar.gz, or a plain .tar).

    context_dir = archive_extract(fileobj=upload, dest=workdir / "context")

The archive is read as a stream, once; nothing is trusted from its headers:

* the decompressed stream is counted as it is read (tar headers, PAX records and file data), so
  a compression bomb stops at `max_bytes` (+ header allowance), and the bytes written to disk are
  counted separately against `max_bytes`;
* at most `max_files` entries (files, directories and links all count);
* member names: no absolute paths, no `..` component, no path through a symbolic link extracted
  earlier, no entry twice (except a directory repeated as a directory);
* regular files and directories are extracted with safe permissions (no setuid/setgid/sticky, no
  group/other write, as `tarfile.data_filter` does); owners are ignored;
* symbolic links are allowed when they stay inside the context: relative targets only, checked
  when extracted (tarfile's "data" filter, which resolves earlier links on disk) and again once
  everything is extracted (a link may have been made to escape by a later link);
* hard links must name a regular file extracted earlier in the same archive; they are extracted
  as copies (counted against `max_bytes`);
* device files, FIFOs, sparse files and other special members are refused;
* `agent.yaml` and the Dockerfile (the manifest's `dockerfile:`, default `Dockerfile`) must be
  regular files in the context. A context wrapped in one top-level directory (`my-agent/...`) is
  accepted: the returned path is then that directory.

Any problem raises ArchiveError naming the member and the problem; `dest` is then removed.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import yaml

MB = 1024 * 1024
MAX_BYTES = 50 * MB
MAX_FILES = 2000
MANIFEST_NAME = "agent.yaml"
DEFAULT_DOCKERFILE = "Dockerfile"
HEADER_ALLOWANCE = 4096  # per member: tar header, padding, PAX record (long names)
CHUNK = 256 * 1024
HAS_DATA_FILTER = hasattr(tarfile, "data_filter")  # 3.11.4+, 3.12+


class ArchiveError(ValueError):
    """The build context is refused. `member` is the archive entry at fault, when there is one."""

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.member = member


class _Counted:
    """A read-only stream that fails once more than `limit` bytes have been read from it."""

    def __init__(self, source, limit: int, what: str) -> None:  # noqa: ANN001 - any .read()
        self.source = source
        self.limit = limit
        self.what = what
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.source.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"The upload is not a valid .tar.gz archive: {exc}") from exc
        self.count += len(data)
        if self.count > self.limit:
            raise ArchiveError(self.what)
        return data


class _Prefixed:
    """`prefix` then the rest of `source` (to sniff the gzip magic of a non-seekable upload)."""

    def __init__(self, prefix: bytes, source) -> None:  # noqa: ANN001
        self.prefix = prefix
        self.source = source

    def read(self, size: int = -1) -> bytes:
        if self.prefix:
            if size is None or size < 0:
                data, self.prefix = self.prefix + self.source.read(), b""
                return data
            data, self.prefix = self.prefix[:size], self.prefix[size:]
            if len(data) < size:
                data += self.source.read(size - len(data))
            return data
        return self.source.read(size)


def archive_extract(
    *,
    fileobj: BinaryIO,
    dest: Path,
    max_bytes: int = MAX_BYTES,
    max_files: int = MAX_FILES,
) -> Path:
    """Extract the build context in `fileobj` into `dest` (created; must be absent or empty) and
    return the context directory (`dest`, or its single top-level directory). Raises
    ArchiveError."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(f"{dest} must be an empty directory")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _extract(fileobj, dest, max_bytes=max_bytes, max_files=max_files)
        return _context_root(dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _extract(fileobj: BinaryIO, dest: Path, *, max_bytes: int, max_files: int) -> None:
    head = fileobj.read(2)
    source = _Prefixed(head, fileobj)
    if head == b"\x1f\x8b":
        source = gzip.GzipFile(fileobj=source, mode="rb")
    stream = _Counted(
        source,
        limit=max_bytes + HEADER_ALLOWANCE * (max_files + 1) + MB,
        what=f"The archive is larger than {max_bytes // MB} MB uncompressed.",
    )
    root = Path(os.path.realpath(dest))
    written = 0
    entries = 0
    links: list[tuple[str, Path]] = []  # symlinks, re-checked at the end
    kinds: dict[str, str] = {}  # normalized name -> "dir" | "file" | "symlink"
    try:
        archive = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - closed below
    except tarfile.TarError as exc:
        raise ArchiveError(f"The upload is not a valid .tar.gz archive: {exc}") from exc
    try:
        while True:
            try:
                member = archive.next()
            except tarfile.TarError as exc:
                raise ArchiveError(f"The archive is damaged: {exc}") from exc
            if member is None:
                break
            name = _normalize(member.name)
            if name is None:  # "." or "./": the root itself
                continue
            entries += 1
            if entries > max_files:
                raise ArchiveError(
                    f"The archive has more than {max_files} entries "
                    "(files, directories and links).",
                    member.name,
                )
            _check_parents(name, kinds, member.name)
            previous = kinds.get(name)
            if previous is not None and not (previous == "dir" and member.isdir()):
                raise ArchiveError(f"{member.name}: appears twice in the archive.", member.name)
            if HAS_DATA_FILTER and (member.isreg() or member.isdir() or member.issym()):
                try:
                    tarfile.data_filter(member, str(root))
                except tarfile.FilterError as exc:
                    raise ArchiveError(_filter_message(member, exc), member.name) from exc
            target = root / name
            try:
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    os.chmod(target, _safe_mode(member.mode, directory=True))
                    kinds[name] = "dir"
                elif member.issparse():
                    raise ArchiveError(f"{member.name}: sparse files are not allowed.", member.name)
                elif member.isreg():
                    written = _write_file(archive, member, target, written, max_bytes)
                    kinds[name] = "file"
                elif member.issym():
                    _check_symlink(member, name, root)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(member.linkname, target)
                    links.append((member.name, target))
                    kinds[name] = "symlink"
                elif member.islnk():
                    source_name = _normalize(member.linkname)
                    if source_name is None or kinds.get(source_name) != "file":
                        raise ArchiveError(
                            f"{member.name}: a hard link must point to a regular file extracted "
                            f"before it in the archive (it points to {member.linkname!r}).",
                            member.name,
                        )
                    size = (root / source_name).stat().st_size
                    written += size
                    if written > max_bytes:
                        raise ArchiveError(
                            f"The archive is larger than {max_bytes // MB} MB uncompressed.",
                            member.name,
                        )
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(root / source_name, target)
                    os.chmod(target, _safe_mode(member.mode, directory=False))
                    kinds[name] = "file"
                else:
                    raise ArchiveError(
                        f"{member.name}: {_kind(member)} are not allowed in a build context.",
                        member.name,
                    )
            except OSError as exc:
                raise ArchiveError(
                    f"{member.name}: could not be extracted ({exc.strerror or exc}).", member.name
                ) from exc
    finally:
        archive.close()
    # Every link again, now that all of them exist (a later link can redirect an earlier one).
    for member_name, path in links:
        resolved = os.path.realpath(path)
        if os.path.commonpath([resolved, str(root)]) != str(root):
            raise ArchiveError(
                f"{member_name}: the symbolic link points outside the build context.", member_name
            )


def _normalize(name: str) -> str | None:
    """A member name as a relative POSIX path; ArchiveError for absolute or `..` paths; None for
    the root itself."""
    if "\x00" in name:
        raise ArchiveError(f"{name!r}: invalid name.", name)
    if name.startswith("/") or PurePosixPath(name).is_absolute():
        raise ArchiveError(f"{name}: absolute paths are not allowed.", name)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{name}: '..' is not allowed in archive paths.", name)
    return "/".join(parts) or None


def _check_parents(name: str, kinds: dict[str, str], original: str) -> None:
    parts = name.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        kind = kinds.get(parent)
        if kind == "symlink":
            raise ArchiveError(
                f"{original}: goes through the symbolic link {parent}; not allowed.", original
            )
        if kind == "file":
            raise ArchiveError(f"{original}: {parent} is a file, not a directory.", original)


def _check_symlink(member: tarfile.TarInfo, name: str, root: Path) -> None:
    link = member.linkname
    if not link or link.startswith("/"):
        raise ArchiveError(
            f"{member.name}: symbolic links must be relative (this one points to {link!r}).",
            member.name,
        )
    resolved = os.path.realpath(os.path.join(root, os.path.dirname(name), link))
    if os.path.commonpath([resolved, str(root)]) != str(root):
        raise ArchiveError(
            f"{member.name}: the symbolic link points outside the build context ({link}).",
            member.name,
        )


def _write_file(
    archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, written: int, max_bytes: int
) -> int:
    source = archive.extractfile(member)
    if source is None:
        raise ArchiveError(f"{member.name}: could not be read.", member.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        while True:
            try:
                chunk = source.read(CHUNK)
            except tarfile.TarError as exc:
                raise ArchiveError(f"{member.name}: damaged ({exc}).", member.name) from exc
            if not chunk:
                break
            written += len(chunk)
            if written > max_bytes:
                raise ArchiveError(
                    f"The archive is larger than {max_bytes // MB} MB uncompressed "
                    f"(reached while extracting {member.name}).",
                    member.name,
                )
            out.write(chunk)
    os.chmod(target, _safe_mode(member.mode, directory=False))
    return written


def _safe_mode(mode: int, *, directory: bool) -> int:
    """Like tarfile.data_filter: owner rw(x), no group/other write, no setuid/setgid/sticky."""
    mode = (mode or 0) & 0o755
    if directory:
        return mode | 0o700
    return mode | 0o600


def _kind(member: tarfile.TarInfo) -> str:
    if member.ischr() or member.isblk():
        return "device files"
    if member.isfifo():
        return "FIFOs"
    return f"entries of this type ({member.type!r})"


def _filter_message(member: tarfile.TarInfo, exc: Exception) -> str:
    kinds = {
        "AbsolutePathError": "absolute paths are not allowed",
        "OutsideDestinationError": "the path leads outside the build context",
        "SpecialFileError": "special files are not allowed",
        "AbsoluteLinkError": "symbolic links must be relative",
        "LinkOutsideDestinationError": "the link points outside the build context",
    }
    reason = kinds.get(type(exc).__name__, str(exc))
    return f"{member.name}: {reason}."


def _context_root(dest: Path) -> Path:
    """`dest`, or its only top-level directory when agent.yaml is there; checks the required
    files."""
    context = dest
    if not (dest / MANIFEST_NAME).exists() and not (dest / MANIFEST_NAME).is_symlink():
        entries = list(dest.iterdir())
        if (
            len(entries) == 1
            and entries[0].is_dir()
            and not entries[0].is_symlink()
            and (entries[0] / MANIFEST_NAME).exists()
        ):
            context = entries[0]
    manifest = context / MANIFEST_NAME
    if not manifest.exists() and not manifest.is_symlink():
        raise ArchiveError(f"{MANIFEST_NAME} is missing at the root of the build context.")
    if manifest.is_symlink() or not manifest.is_file():
        raise ArchiveError(f"{MANIFEST_NAME} must be a regular file.", MANIFEST_NAME)
    dockerfile = _dockerfile_name(manifest)
    path = context / dockerfile
    if not path.exists() and not path.is_symlink():
        raise ArchiveError(f"{dockerfile} is missing from the build context.")
    if not _inside_without_links(context, dockerfile) or not path.is_file():
        raise ArchiveError(f"{dockerfile} must be a regular file (not a link).", dockerfile)
    return context


def _dockerfile_name(manifest: Path) -> str:
    """The manifest's `dockerfile:` if it is a plausible relative path, else "Dockerfile" (the
    manifest itself is validated later, with every problem reported)."""
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return DEFAULT_DOCKERFILE
    value = data.get("dockerfile") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        return DEFAULT_DOCKERFILE
    try:
        normalized = _normalize(value.strip())
    except ArchiveError:
        return DEFAULT_DOCKERFILE
    return normalized or DEFAULT_DOCKERFILE


def _inside_without_links(context: Path, relative: str) -> bool:
    path = context
    for part in relative.split("/"):
        path = path / part
        if path.is_symlink():
            return False
    mode = path.lstat().st_mode
    return stat.S_ISREG(mode)


__all__ = ["HAS_DATA_FILTER", "MAX_BYTES", "MAX_FILES", "ArchiveError", "archive_extract"]

"""Static checks on a built agent image, without running it.

    findings = image_scan(image="agentnexus/sub-123:1.0.0", manifest=manifest)
    if has_critical(findings): ...  # the submission stops here

Each check reports at least one Finding (an "info" one when it passed, so reviewers see what was
checked). Checks (Finding.check):

* `user`: the image's configured user is not root ("", "0", "root", or a name that is uid 0 in
  the image's /etc/passwd) -> critical. (The sandbox runs every agent as 10001 anyway.)
* `setuid`: no setuid/setgid regular files in the merged filesystem -> critical per file.
* `size`: image size under settings.AGENT_IMAGE_MAX_MB (default 1024) -> critical.
* `secrets`: no private keys or common credentials in any file of any layer, deleted or
  shadowed files included (they are still shipped); the first SCAN_BYTES of each file are read.
  Findings name the file and the kind of secret, never the secret.
* `entrypoint`: the entrypoint (or else the command) names an executable file that exists
  (PATH lookup with the image's PATH, symlinks followed) -> critical.
* `labels`: `org.agentnexus.slug` / `org.agentnexus.version`, when present, match the manifest
  -> critical.

The image data comes from the runtime backend (RuntimeBackend.image_inspect / image_files).
"""

from __future__ import annotations

import posixpath
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runtime.backends.base import RuntimeBackend, _setting, get_backend

Severity = Literal["critical", "warning", "info"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"
INFO: Severity = "info"

CHECK_USER = "user"
CHECK_SETUID = "setuid"
CHECK_SIZE = "size"
CHECK_SECRETS = "secrets"
CHECK_ENTRYPOINT = "entrypoint"
CHECK_LABELS = "labels"

LABEL_SLUG = "org.agentnexus.slug"
LABEL_VERSION = "org.agentnexus.version"
DEFAULT_IMAGE_MAX_MB = 1024
SCAN_BYTES = 1024 * 1024  # per file, from its start
MAX_FINDINGS_PER_CHECK = 25
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_SYMLINK_HOPS = 40
MiB = 1024 * 1024

# (kind, hints, pattern): bytes patterns; a pattern runs only on files holding one of its hint
# substrings (fast). A match is reported by kind and line, never its text.
SECRET_PATTERNS: tuple[tuple[str, tuple[bytes, ...], re.Pattern[bytes]], ...] = (
    (
        "a private key",
        (b"PRIVATE KEY-----",),
        re.compile(
            rb"-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 )?PRIVATE KEY(?: BLOCK)?-----"
        ),
    ),
    ("an AWS access key id", (b"AKIA", b"ASIA"), re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "an AWS secret access key",
        (b"ws_secret_access_key", b"WS_SECRET_ACCESS_KEY"),
        re.compile(rb"(?i)aws_secret_access_key\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}\b"),
    ),
    (
        "a GitHub token",
        (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_"),
        re.compile(rb"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
    ),
    ("a Slack token", (b"xox",), re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Stripe live key", (b"k_live_",), re.compile(rb"\b[sr]k_live_[0-9A-Za-z]{20,}")),
    ("a Google API key", (b"AIza",), re.compile(rb"\bAIza[0-9A-Za-z_\-]{35}\b")),
    (
        "an OpenAI/Anthropic API key",
        (b"sk-",),
        re.compile(rb"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,}"),
    ),
    (
        "a hex private key or seed",
        (b"rivate", b"RIVATE", b"ecret", b"ECRET", b"nemonic", b"NEMONIC", b"seed", b"SEED"),
        re.compile(
            rb"(?i)(?:private[_ -]?key|secret[_ -]?key|mnemonic|seed)[\"']?\s*[:=]\s*[\"']?"
            rb"(?:0x)?[0-9a-f]{64}\b"
        ),
    ),
)
# Files whose mere presence suggests credentials (their content may not match a pattern).
CREDENTIAL_FILES = re.compile(
    r"(?:^|/)(?:\.aws/credentials|\.docker/config\.json|\.git-credentials|\.netrc|\.pypirc|"
    r"\.npmrc|id_rsa|id_dsa|id_ecdsa|id_ed25519)$"
)


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str


def has_critical(findings: Iterable[Finding]) -> bool:
    return any(f.severity == CRITICAL for f in findings)


def image_scan(
    *, image: str, manifest: Any, backend: RuntimeBackend | None = None
) -> list[Finding]:
    """Run every check on the local image `image` for `manifest` (a agents.manifest.Manifest, or
    a mapping with slug and version). Raises the backend's ImageNotFoundError /
    InfrastructureError when the image cannot be read."""
    backend = backend or get_backend()
    info = backend.image_inspect(image)
    findings: list[Finding] = []
    findings += _check_size(info)
    findings += _check_labels(info, manifest)

    files: dict[str, tuple[int, str]] = {}  # merged view: path -> (mode, symlink target)
    setuid: list[str] = []
    passwd = b""
    for entry in backend.image_files(image):
        mode = entry.mode
        target = entry.read().decode("utf-8", "surrogateescape") if stat.S_ISLNK(mode) else ""
        files[entry.path] = (mode, target)
        if stat.S_ISREG(mode) and mode & (stat.S_ISUID | stat.S_ISGID):
            setuid.append(f"{entry.path} ({_setuid_kind(mode)}, mode {stat.S_IMODE(mode):o})")
        if entry.path == "/etc/passwd" and stat.S_ISREG(mode):
            passwd = entry.read(SCAN_BYTES)
    findings += _check_user(info, passwd)
    findings += _check_setuid(setuid)
    findings += _check_entrypoint(info, files)
    findings += _check_secrets(backend.image_files(image, all_layers=True))
    return findings


# ------------------------------------------------------------------------------------- checks
def _check_size(info: Mapping[str, Any]) -> list[Finding]:
    limit_mb = int(_setting("AGENT_IMAGE_MAX_MB", DEFAULT_IMAGE_MAX_MB))
    size = int(info.get("size") or 0)
    size_mb = size / MiB
    if size > limit_mb * MiB:
        return [
            Finding(
                CHECK_SIZE,
                CRITICAL,
                f"The image is {size_mb:.0f} MB; the limit is {limit_mb} MB. Start from a "
                "smaller base and leave build caches and data files out.",
            )
        ]
    return [Finding(CHECK_SIZE, INFO, f"The image is {size_mb:.0f} MB (limit {limit_mb} MB).")]


def _check_labels(info: Mapping[str, Any], manifest: Any) -> list[Finding]:
    labels = info.get("labels") or {}
    findings = []
    for label, field in ((LABEL_SLUG, "slug"), (LABEL_VERSION, "version")):
        expected = _manifest_field(manifest, field)
        if label in labels and str(labels[label]) != str(expected):
            findings.append(
                Finding(
                    CHECK_LABELS,
                    CRITICAL,
                    f"The image label {label}={labels[label]!r} does not match the manifest's "
                    f"{field} {expected!r}.",
                )
            )
    if not findings:
        present = [label for label in (LABEL_SLUG, LABEL_VERSION) if label in labels]
        message = (
            "The labels " + ", ".join(present) + " match the manifest."
            if present
            else f"No {LABEL_SLUG} / {LABEL_VERSION} labels to compare with the manifest."
        )
        findings.append(Finding(CHECK_LABELS, INFO, message))
    return findings


def _manifest_field(manifest: Any, name: str) -> Any:
    if isinstance(manifest, Mapping):
        return manifest.get(name)
    return getattr(manifest, name, None)


def _check_user(info: Mapping[str, Any], passwd: bytes) -> list[Finding]:
    user = str(info.get("user") or "").strip()
    name = user.split(":", 1)[0]
    if not name:
        return [
            Finding(
                CHECK_USER,
                CRITICAL,
                "The image runs as root (no USER). Keep the base image's USER 10001:10001 or "
                "set a non-root USER at the end of the Dockerfile.",
            )
        ]
    if name in ("0", "root"):
        return [
            Finding(
                CHECK_USER,
                CRITICAL,
                f"The image runs as root (USER {user}). Set a non-root USER, e.g. 10001:10001.",
            )
        ]
    if not name.isdigit():
        uid = _passwd_uid(passwd, name)
        if uid is None:
            return [
                Finding(
                    CHECK_USER,
                    WARNING,
                    f"The image's user {name!r} is not in its /etc/passwd; use a numeric "
                    "USER such as 10001:10001.",
                )
            ]
        if uid == 0:
            return [
                Finding(
                    CHECK_USER,
                    CRITICAL,
                    f"The image's user {name!r} has uid 0 in /etc/passwd: it is root.",
                )
            ]
    return [Finding(CHECK_USER, INFO, f"The image runs as the non-root user {user}.")]


def _passwd_uid(passwd: bytes, name: str) -> int | None:
    for line in passwd.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == name:
            try:
                return int(fields[2])
            except ValueError:
                return None
    return None


def _setuid_kind(mode: int) -> str:
    bits = [b for b, flag in (("setuid", stat.S_ISUID), ("setgid", stat.S_ISGID)) if mode & flag]
    return "+".join(bits)


def _check_setuid(files: list[str]) -> list[Finding]:
    if not files:
        return [Finding(CHECK_SETUID, INFO, "No setuid or setgid files.")]
    findings = [
        Finding(
            CHECK_SETUID,
            CRITICAL,
            f"{path}: setuid/setgid files are not allowed; remove the bit "
            "(RUN chmod a-s <file>) or the file.",
        )
        for path in files[:MAX_FINDINGS_PER_CHECK]
    ]
    if len(files) > MAX_FINDINGS_PER_CHECK:
        findings.append(
            Finding(
                CHECK_SETUID,
                CRITICAL,
                f"... and {len(files) - MAX_FINDINGS_PER_CHECK} more setuid/setgid files.",
            )
        )
    return findings


def _check_entrypoint(
    info: Mapping[str, Any], files: Mapping[str, tuple[int, str]]
) -> list[Finding]:
    entrypoint = list(info.get("entrypoint") or [])
    cmd = list(info.get("cmd") or [])
    argv = entrypoint or cmd
    what = "entrypoint" if entrypoint else "command"
    if not argv or not str(argv[0]).strip():
        return [
            Finding(
                CHECK_ENTRYPOINT,
                CRITICAL,
                "The image has neither ENTRYPOINT nor CMD; the base image's "
                'CMD ["python3", "-m", "agentnexus_sdk"] was removed?',
            )
        ]
    program = str(argv[0])
    env = dict(e.split("=", 1) for e in info.get("env") or [] if "=" in e)
    workdir = info.get("working_dir") or "/"
    if "/" in program:
        candidates = [posixpath.normpath(posixpath.join(workdir, program))]
    else:
        candidates = [
            posixpath.join(d or workdir, program) for d in env.get("PATH", DEFAULT_PATH).split(":")
        ]
    for candidate in candidates:
        resolved = _resolve(files, candidate)
        if resolved is None:
            continue
        mode = files[resolved][0]
        if stat.S_ISREG(mode):
            if mode & 0o111:
                return [
                    Finding(
                        CHECK_ENTRYPOINT,
                        INFO,
                        f"The {what} {program} exists ({resolved}).",
                    )
                ]
            return [
                Finding(
                    CHECK_ENTRYPOINT,
                    CRITICAL,
                    f"The {what} {program} ({resolved}) is not executable (chmod +x).",
                )
            ]
    where = "in the image" if "/" in program else "on the image's PATH"
    return [
        Finding(
            CHECK_ENTRYPOINT,
            CRITICAL,
            f"The {what} {program} does not exist {where}; the container could not start.",
        )
    ]


def _resolve(files: Mapping[str, tuple[int, str]], path: str) -> str | None:
    """`path` with symbolic links followed inside the image's filesystem; None if it does not
    exist."""
    parts = [p for p in path.split("/") if p and p != "."]
    current = "/"
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = posixpath.dirname(current) if current != "/" else "/"
            continue
        candidate = posixpath.join(current, part)
        entry = files.get(candidate)
        if entry is None:
            return None
        mode, target = entry
        if stat.S_ISLNK(mode):
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return None
            parts = [p for p in target.split("/") if p and p != "."] + parts
            current = "/" if target.startswith("/") else current
            continue
        if parts and not stat.S_ISDIR(mode):
            return None
        current = candidate
    return current


def _check_secrets(entries: Iterable[Any]) -> list[Finding]:
    found: list[Finding] = []
    reported: set[tuple[str, str]] = set()
    scanned = 0
    for entry in entries:
        path, mode, size = entry.path, entry.mode, entry.size
        if not stat.S_ISREG(mode):
            continue
        if CREDENTIAL_FILES.search(path) and (path, "file") not in reported:
            reported.add((path, "file"))
            found.append(
                Finding(
                    CHECK_SECRETS,
                    WARNING,
                    f"{path}: a credentials file; make sure it holds no real credentials "
                    "(declare secrets in the manifest's permissions.secrets instead).",
                )
            )
        if size <= 0:
            continue
        data = entry.read(SCAN_BYTES)
        scanned += 1
        for kind, line in _secret_matches(data):
            if (path, kind) in reported:
                continue
            reported.add((path, kind))
            found.append(
                Finding(
                    CHECK_SECRETS,
                    CRITICAL,
                    f"{path} (line {line}): contains {kind}. Never bake credentials into the "
                    "image, not even in a layer a later step deletes; users supply secrets at "
                    "run time (permissions.secrets).",
                )
            )
        if sum(f.severity == CRITICAL for f in found) >= MAX_FINDINGS_PER_CHECK:
            found.append(
                Finding(CHECK_SECRETS, CRITICAL, "... stopped after too many secret findings.")
            )
            break
    if not any(f.severity == CRITICAL for f in found):
        found.append(
            Finding(
                CHECK_SECRETS,
                INFO,
                f"No private keys or credentials found ({scanned} files in all layers; the "
                f"first {SCAN_BYTES // MiB} MB of each).",
            )
        )
    return found


_HINTS = re.compile(b"|".join(re.escape(hint) for _, hints, _ in SECRET_PATTERNS for hint in hints))


def _secret_matches(data: bytes) -> list[tuple[str, int]]:
    found = set(_HINTS.findall(data))  # one pass over the file
    if not found:
        return []
    matches = []
    for kind, hints, pattern in SECRET_PATTERNS:
        if found.isdisjoint(hints):
            continue
        match = pattern.search(data)
        if match:
            matches.append((kind, data.count(b"\n", 0, match.start()) + 1))
    return matches


__all__ = [
    "CHECK_ENTRYPOINT",
    "CHECK_LABELS",
    "CHECK_SECRETS",
    "CHECK_SETUID",
    "CHECK_SIZE",
    "CHECK_USER",
    "LABEL_SLUG",
    "LABEL_VERSION",
    "Finding",
    "has_critical",
    "image_scan",
]

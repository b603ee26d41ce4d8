#!/usr/bin/env bash
# Build the local agent images. Idempotent; quick (well under 2 s) when everything is up to date.
#
#   agentnexus/debian-python:bookworm   Debian bookworm minbase + python3, from debootstrap
#                                       (no registry needed); rootfs tarball cached in .cache/
#   agentnexus/agent-python:1           that + the agent SDK (runtime/images/agent-python)
#   agentnexus/catalog-<slug>:<version> each catalog agent agents/catalog/<slug>/ (with agent.yaml),
#                                       for the tests and benchmarks; the catalog itself runs the
#                                       images the submission pipeline builds (manage.py
#                                       catalog_publish)
#
# Steps: make sure the Docker engine runs (started here when root: no bridge, no iptables), make
# sure debootstrap is installed (apt-get, when root), then build whatever is missing or whose
# sources changed (each image carries an `agentnexus.source-hash` label). All builds run with
# network none. See runtime/images/README.md.
#
# Usage: scripts/docker_images.sh [--base-only]   (--base-only: the two base images, no agents;
# what `make run` needs before catalog_publish)
#
# Environment: DEBIAN_MIRROR (default: the mirror in /etc/apt/sources.list(.d)),
# AGENTNEXUS_REBUILD_BASE=1 (forget the cached rootfs tarball and debootstrap again).
set -euo pipefail

BASE_ONLY=0
case "${1:-}" in
"") ;;
--base-only) BASE_ONLY=1 ;;
*)
    echo "usage: $0 [--base-only]" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CACHE="$ROOT/.cache/agent-images"
BASE_TAG="agentnexus/debian-python:bookworm"
SDK_TAG="agentnexus/agent-python:1"
SUITE=bookworm
export DOCKER_BUILDKIT=0 # the classic builder: no buildx plugin needed, honours --network none

say() { printf '[docker-images] %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# --- 1. Docker engine -----------------------------------------------------------------------------
if ! command -v docker >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing docker.io"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }
    else
        die "the docker CLI is not installed (Debian/Ubuntu: apt-get install docker.io)"
    fi
fi

if ! docker info >/dev/null 2>&1; then
    if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]]; then
        die "the Docker engine at DOCKER_HOST=$DOCKER_HOST does not answer"
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        die "the Docker engine is not running (or this user may not use /var/run/docker.sock); start it, e.g. as root: dockerd --host unix:///var/run/docker.sock --bridge=none --iptables=false &"
    fi
    command -v dockerd >/dev/null 2>&1 || die "dockerd not found (apt-get install docker.io)"
    say "starting dockerd (log: /var/log/dockerd.log)"
    # setsid + nohup: the engine outlives this script and the shell that ran it.
    setsid nohup dockerd --host unix:///var/run/docker.sock --bridge=none --iptables=false \
        >/var/log/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 0.5
    done
    docker info >/dev/null 2>&1 || die "dockerd did not become ready within 30 s; see /var/log/dockerd.log"
    say "dockerd is ready"
fi

image_label() { # image label -> value ('' when the image or the label is missing)
    docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

image_id() { docker image inspect -f '{{ .Id }}' "$1" 2>/dev/null || true; }

tree_hash() { # files or dirs... -> one sha256 over their paths and contents (no caches)
    find "$@" -type f -not -path '*/__pycache__/*' -not -name '*.pyc' -print0 | LC_ALL=C sort -z |
        xargs -0 sha256sum | sha256sum | cut -c1-16
}

# --- 2. Base image: debootstrap rootfs + docker import --------------------------------------------
debian_mirror() {
    if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
        echo "$DEBIAN_MIRROR"
        return
    fi
    local f url=""
    # deb822 (*.sources): the URIs of a stanza whose Suites list the plain suite.
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r "$f" ]] || continue
        url="$(awk -v suite="$SUITE" '
            /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri=""; ok=0; next }
            tolower($1) == "uris:" { uri=$2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok=1 }
            END { if (uri != "" && ok) print uri }' "$f" | head -n1)"
        [[ -n "$url" ]] && break
    done
    # one-line format: deb [options] URL suite components
    if [[ -z "$url" ]]; then
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [[ -r "$f" ]] || continue
            url="$(awk -v suite="$SUITE" '$1 == "deb" {
                    i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) { print $i; exit } }' "$f")"
            [[ -n "$url" ]] && break
        done
    fi
    echo "${url:-http://deb.debian.org/debian}"
}

build_base() {
    local tarball="$CACHE/debian-python-$SUITE.tar"
    if [[ "${AGENTNEXUS_REBUILD_BASE:-}" == 1 ]]; then
        rm -f "$tarball"
    fi
    if [[ ! -s "$tarball" ]]; then
        [[ "$(id -u)" -eq 0 ]] || die "building $BASE_TAG needs root (debootstrap); run this script as root once"
        if ! command -v debootstrap >/dev/null 2>&1 || [[ ! -e /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
            command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and apt-get is not available"
            say "installing debootstrap"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >/dev/null 2>&1 ||
                { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >/dev/null; }
        fi
        local mirror rootfs
        mirror="$(debian_mirror)"
        mkdir -p "$CACHE"
        rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
        # shellcheck disable=SC2064 # expand now: the path is fixed
        trap "rm -rf '$rootfs'" EXIT
        say "debootstrap $SUITE (minbase + python3) from $mirror (about a minute)"
        debootstrap --variant=minbase --include=python3 "$SUITE" "$rootfs" "$mirror" \
            >"$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed; see $CACHE/debootstrap.log"
        # Package caches and lists are dead weight in an image that never runs apt.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
            "$rootfs"/var/log/*.log "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info
        tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
        trap - EXIT
        say "rootfs cached at ${tarball#"$ROOT"/} ($(du -h "$tarball" | cut -f1))"
    fi
    say "importing $BASE_TAG"
    docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'ENV LANG=C.UTF-8' \
        -c 'CMD ["python3"]' \
        -c "LABEL agentnexus.source-hash=$SUITE-minbase-python3" \
        "$tarball" "$BASE_TAG" >/dev/null
}

# --- 3. docker build helper ----------------------------------------------------------------------
# build TAG HASH CONTEXT DOCKERFILE [--build-arg ...]: build when the image is missing or was built
# from other sources (HASH), with network none.
build() {
    local tag="$1" hash="$2" context="$3" dockerfile="$4"
    shift 4
    if [[ "$(image_label "$tag" agentnexus.source-hash)" == "$hash" ]]; then
        say "$tag is up to date"
        return
    fi
    say "building $tag"
    local log
    log="$(mktemp)"
    if ! docker build --network none --pull=false -q -f "$dockerfile" -t "$tag" \
        --label "agentnexus.source-hash=$hash" "$@" "$context" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "building $tag failed"
    fi
    rm -f "$log"
}

if [[ -z "$(image_id "$BASE_TAG")" ]]; then
    build_base
else
    say "$BASE_TAG is present"
fi

# --- 4. SDK image ---------------------------------------------------------------------------------
sdk_hash="$(tree_hash sdk/agentnexus_sdk runtime/images/agent-python)-$(image_id "$BASE_TAG" | cut -c8-19)"
build "$SDK_TAG" "$sdk_hash" sdk runtime/images/agent-python/Dockerfile --build-arg "BASE_IMAGE=$BASE_TAG"

# --- 5. Catalog agents ----------------------------------------------------------------------------
sdk_id="$(image_id "$SDK_TAG" | cut -c8-19)"
for dir in agents/catalog/*/; do
    ((BASE_ONLY)) && break
    dir="${dir%/}"
    [[ -f "$dir/agent.yaml" && -f "$dir/Dockerfile" ]] || continue
    slug="$(basename "$dir")"
    version="$(awk -F': *' '$1 == "version" { gsub(/["'"'"']/, "", $2); print $2; exit }' "$dir/agent.yaml" 2>/dev/null || true)"
    build "agentnexus/catalog-$slug:${version:-latest}" "$(tree_hash "$dir")-$sdk_id" "$dir" "$dir/Dockerfile" \
        --build-arg "BASE_IMAGE=$SDK_TAG"
done
# Images replaced by a rebuild are left untagged: drop ours (and only ours).
docker image prune -f --filter "label=agentnexus.source-hash" >/dev/null 2>&1 || true
say "done"

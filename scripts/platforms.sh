#!/usr/bin/env bash
# What a multi-platform build needs on a machine with no registry but our own: QEMU registered
# for arm64 (bookworm's binfmt-support and qemu-user-static; the engines list linux/arm64 at
# once, no restart), and the python stand-ins as images of two platforms, linux/amd64 and
# linux/arm64, in the loopback registry (scripts/registry.sh) as
#   REGISTRY/pyslim-stand-ins/python:V-slim and REGISTRY/pyslim-stand-ins/python:V
# — an engine resolves a base per platform from a registry, which a local image store of one
# platform per tag (the classic store) cannot serve. The amd64 halves are the main engine's
# stand-ins (scripts/engine.sh); the arm64 ones are built here, under emulation: the slim one by
# debootstrap (about 4 minutes), the compile one lean — gcc and python3-dev, what the tests'
# compiled packages need besides their `system:` packages.
# Idempotent: an index that has both platforms and this script's version is left alone.
# Prints nothing on stdout but `export PYSLIM_STAND_INS=...`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bumped whenever the images change, so machines that kept older ones rebuild them.
VERSION=1
read -ra PYTHONS <<<"${PYSLIM_PLATFORM_PYTHONS:-3.11}"
declare -A SUITE=([3.11]=bookworm [3.13]=trixie)
log() { echo "[platforms] $*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root (installs QEMU, runs debootstrap)"; exit 1; }
mkdir -p /run/pyslim-platforms
exec 9>/run/pyslim-platforms/lock
flock 9

qemu() {
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && return
  log "installing QEMU user emulation (binfmt-support qemu-user-static) for linux/arm64"
  # bookworm's, pinned by release: a trixie line in the sources would otherwise win for some.
  if ! apt-get install -y -qq --no-install-recommends binfmt-support/bookworm qemu-user-static/bookworm >&2 2>/dev/null; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends binfmt-support/bookworm qemu-user-static/bookworm >&2
  fi
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >&2
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "qemu-aarch64 is not registered"; exit 1; }
}

registry_env=$(scripts/registry.sh)
eval "$registry_env"
STAND_INS="$PYSLIM_REGISTRY/pyslim-stand-ins"
main_host=$(scripts/engine.sh 9>&- | sed -n 's/^export DOCKER_HOST=//p')
main() { DOCKER_HOST="$main_host" /usr/bin/docker "$@"; }
# The builds and imports run on a newest-engine instance of their own (the containerd store
# keeps an image's platform; buildx pushes from it), not on engines the tests share.
newest_env=$(PYSLIM_NEWEST_INSTANCE=2 scripts/engine-newest.sh 9>&-)
eval "$newest_env"
cli() { DOCKER_HOST="$PYSLIM_NEWEST2_HOST" DOCKER_CONFIG="$PYSLIM_NEWEST2_CONFIG" "$PYSLIM_NEWEST2_DOCKER" "$@"; }

# Both platforms, and this version's label on the arm64 half.
current() {
  local raw
  raw=$(cli buildx imagetools inspect --raw "$1" 2>/dev/null) || return 1
  [[ "$raw" == *'"architecture": "amd64"'* && "$raw" == *'"architecture": "arm64"'* ]] || return 1
  [ "$(cli buildx imagetools inspect "$1-arm64" --format '{{index .Image.Config.Labels "pyslim.platforms"}}' 2>/dev/null)" = "$VERSION" ]
}

# The main engine's stand-in, pushed as the amd64 half (a new stand-in there is pushed again:
# its image ID is in the tag's history).
push_amd64() {
  local tag=$1 target=$2
  main tag "$tag" "$target"
  main push -q "$target" >&2
  main image rm "$target" >/dev/null
}

slim_arm64() {
  local version=$1 target=$2 suite=${SUITE[$1]}
  log "building $target from Debian $suite for arm64 under emulation"
  local started=$SECONDS dir
  dir=$(mktemp -d /var/tmp/pyslim-arm64.XXXXXX)
  debootstrap --arch=arm64 --variant=minbase \
    --include=python3,python3-venv,python3-pip,libpython$version,ca-certificates \
    "$suite" "$dir" http://deb.debian.org/debian >&2
  local full
  full=$(chroot "$dir" /usr/bin/python3 -c 'import platform; print(platform.python_version())')
  # As scripts/engine.sh's stand-ins: the official images' shape, this network's CA.
  rm -f "$dir"/usr/lib/python3*/EXTERNALLY-MANAGED
  ln -sf python3 "$dir/usr/bin/python"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  mkdir -p "$dir/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/usr/local/share/ca-certificates/host-bundle.crt"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  tar -C "$dir" -c . | cli import --platform linux/arm64 \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    --change "ENV PYTHON_VERSION=$full" \
    --change 'CMD ["python3"]' \
    --change "LABEL pyslim.platforms=$VERSION" - "$target" >/dev/null
  rm -rf "$dir"
  cli push -q "$target" >&2
  log "built $target (python $full) in $((SECONDS - started)) s"
}

full_arm64() {
  local slim=$1 target=$2
  log "building $target on $slim under emulation"
  local started=$SECONDS
  # --network host: this engine's bridge reaches Debian's mirror through NAT too, but host is
  # what every engine here has.
  cli buildx build -q --platform linux/arm64 --network host --push -t "$target" - >/dev/null <<DOCKERFILE
FROM $slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev python3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
LABEL pyslim.platforms=$VERSION
DOCKERFILE
  log "built $target in $((SECONDS - started)) s"
}

index() {
  cli buildx imagetools create -t "$1" "$1-amd64" "$1-arm64" >&2
}

qemu
for version in "${PYTHONS[@]}"; do
  slim="$STAND_INS/python:$version-slim"
  full="$STAND_INS/python:$version"
  if ! current "$slim"; then
    push_amd64 "python:$version-slim" "$slim-amd64"
    slim_arm64 "$version" "$slim-arm64"
    index "$slim"
  fi
  if ! current "$full"; then
    push_amd64 "python:$version" "$full-amd64"
    full_arm64 "$slim-arm64" "$full-arm64"
    index "$full"
  fi
done
echo "export PYSLIM_STAND_INS=$STAND_INS"

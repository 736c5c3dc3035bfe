#!/usr/bin/env bash
# Brings up a private Docker engine with BuildKit and the python base images pyslim builds on.
# Idempotent: every step checks before it acts, so CI, developers and the demo all call it.
# Prints nothing on stdout but the `export DOCKER_HOST=...` line, so `eval "$(scripts/engine.sh)"` works.
set -euo pipefail

RUN_DIR=/run/pyslim
SOCK="$RUN_DIR/docker.sock"
DATA_ROOT=/var/lib/pyslim-docker
export DOCKER_HOST="unix://$SOCK"
# Each Python the stand-ins provide, and the Debian release whose python3 it is; the stand-ins
# are tagged with the official names (python:3.13, python:3.13-slim). PYSLIM_PYTHONS builds
# fewer (`PYSLIM_PYTHONS=3.11`): a machine that never builds for 3.13 need not wait for it.
declare -A SUITE=([3.11]=bookworm [3.13]=trixie)
read -ra PYTHONS <<<"${PYSLIM_PYTHONS:-3.11 3.13}"
log() { echo "[engine] $*" >&2; }

need_root() { [ "$(id -u)" = 0 ] || { log "must run as root (installs packages, starts dockerd)"; exit 1; }; }

install_docker() {
  if [ -x /usr/sbin/dockerd ] && [ -x /usr/libexec/docker/cli-plugins/docker-buildx ]; then return; fi
  need_root
  log "installing Docker 26.1 + buildx from Debian trixie (pinned low; bookworm stays the default)"
  echo 'deb http://deb.debian.org/debian trixie main' >/etc/apt/sources.list.d/trixie.list
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/trixie
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends \
    docker.io/trixie containerd/trixie docker-cli/trixie docker-buildx/trixie \
    runc tini iptables debootstrap >&2
}

docker_cli() {
  # Debian's CLI (26.1) matches the engine; the machine's /usr/local/bin one is newer and only a client.
  if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi
}

start_dockerd() {
  if docker_cli info >/dev/null 2>&1; then return; fi
  need_root
  mkdir -p "$RUN_DIR" "$DATA_ROOT"
  if [ -f "$RUN_DIR/docker.pid" ] && ! kill -0 "$(cat "$RUN_DIR/docker.pid")" 2>/dev/null; then
    rm -f "$RUN_DIR/docker.pid" "$SOCK"
  fi
  log "starting dockerd on $SOCK"
  # Closing stdin/stdout keeps a caller's pipe (e.g. `eval "$(...)"`) from waiting on the daemon.
  setsid /usr/sbin/dockerd --host "$DOCKER_HOST" --data-root "$DATA_ROOT" \
    --exec-root "$RUN_DIR/exec" --pidfile "$RUN_DIR/docker.pid" \
    </dev/null >"$RUN_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 60); do
    docker_cli info >/dev/null 2>&1 && return
    sleep 1
  done
  log "dockerd did not come up; its log:"; tail -n 40 "$RUN_DIR/dockerd.log" >&2; exit 1
}

image_exists() { docker_cli image inspect "$1" >/dev/null 2>&1; }

# Bumped whenever the stand-ins change, so machines that kept an older one rebuild it
# (4: PYTHON_VERSION in the environment, as the official images have it).
STAND_IN_VERSION=4

stand_in_env=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8'
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt'
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
  --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1'
  --change 'CMD ["python3"]'
  --change "LABEL pyslim.stand-in=$STAND_IN_VERSION"
)

# An image is current when it is this version's stand-in, or (pulled, or from before stand-ins
# were labelled) when it passes the probe: what specs rely on it having.
current() {
  image_exists "$1" || return 1
  local version
  version=$(docker_cli image inspect "$1" --format '{{index .Config.Labels "pyslim.stand-in"}}')
  if [ -n "$version" ]; then [ "$version" = "$STAND_IN_VERSION" ]; return; fi
  docker_cli run --rm --entrypoint sh "$1" -c "$2" >/dev/null 2>&1
}

make_slim() {
  local version=$1 tag="python:$1-slim" suite=${SUITE[$1]:-}
  # The official images are built with --enable-shared: programs that embed Python link it.
  current "$tag" 'ls /usr/local/lib/libpython3* || ls /usr/lib/*/libpython3*' && return
  if docker_cli pull -q "$tag" >/dev/null 2>&1; then return; fi
  [ -n "$suite" ] || { log "no stand-in for python $version: PYSLIM_PYTHONS may name ${!SUITE[*]}"; exit 1; }
  need_root
  log "building stand-in $tag from Debian $suite (no registry reachable)"
  local started=$SECONDS
  local dir; dir=$(mktemp -d /var/tmp/pyslim-rootfs.XXXXXX)
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,libpython$version,ca-certificates \
    "$suite" "$dir" http://deb.debian.org/debian >&2
  # What the official images say in PYTHON_VERSION (and the frontend reads, for lock markers
  # such as `python_full_version < '3.11.4'`): asked of the interpreter itself, since the
  # release's patch level moves with its point releases.
  local full
  full=$(chroot "$dir" /usr/bin/python3 -c 'import platform; print(platform.python_version())')
  case "$full" in
    "$version".*) ;;
    *) log "Debian $suite's python3 is $full, not $version"; rm -rf "$dir"; exit 1 ;;
  esac
  # Official images: no PEP 668 marker, a `python` command, no apt lists; plus this network's CA.
  rm -f "$dir"/usr/lib/python3*/EXTERNALLY-MANAGED
  ln -sf python3 "$dir/usr/bin/python"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  # As Debian's official images: apt deletes what it downloaded after every run, so an image
  # never keeps .deb archives (and an apt cache mount keeps nothing unless this is undone).
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  mkdir -p "$dir/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/usr/local/share/ca-certificates/host-bundle.crt"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  tar -C "$dir" -c . | docker_cli import "${stand_in_env[@]}" --change "ENV PYTHON_VERSION=$full" - "$tag" >/dev/null
  rm -rf "$dir"
  slim_rebuilt[$version]=1
  log "built $tag (python $full) in $((SECONDS - started)) s"
}

make_full() {
  local version=$1 tag="python:$1"
  # A new slim stand-in is a new base: the compile stand-in on top of it is rebuilt too.
  [ -z "${slim_rebuilt[$version]:-}" ] && current "$tag" 'command -v gcc && command -v git && command -v ssh' && return
  if docker_cli pull -q "$tag" >/dev/null 2>&1; then return; fi
  log "building stand-in $tag: the slim stand-in plus compilers and the -dev libraries of the official image"
  local started=$SECONDS
  docker_cli build -q -t "$tag" - >/dev/null <<DOCKERFILE
FROM python:$version-slim
# What buildpack-deps (the official image's base) has: compilers, git and ssh, common -dev
# libraries; not libldap2-dev or libsasl2-dev, which specs must ask for.
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential python3-dev git openssh-client pkg-config \
      libffi-dev libssl-dev zlib1g-dev libpq-dev libxml2-dev libxslt1-dev libjpeg-dev \
 && rm -rf /var/lib/apt/lists/*
LABEL pyslim.stand-in=$STAND_IN_VERSION
DOCKERFILE
  log "built $tag in $((SECONDS - started)) s"
}

declare -A slim_rebuilt=()
install_docker
start_dockerd
for version in "${PYTHONS[@]}"; do
  make_slim "$version"
  make_full "$version"
done
echo "export DOCKER_HOST=$DOCKER_HOST"

#!/usr/bin/env bash
# A second engine: the newest Docker Debian ships (unstable/sid: Docker 28 or later, BuildKit
# 0.25 or later, buildx with `--call`), beside the Docker 26.1 that scripts/engine.sh runs, so the
# examples are built on both. It has everything of its own (socket, data root, exec root, bridge,
# managed containerd) and uses the containerd image store.
# Idempotent and cheap when warm (about half a second): a running engine started from the current
# release with this configuration is left alone, sid is asked for a newer release once a week, and
# the stand-in base images are copied once per change.
# Prints nothing on stdout but `export` lines, named so they do not clobber the main engine's
# DOCKER_HOST/DOCKER: `eval "$(scripts/engine-newest.sh)"`.
# PYSLIM_NEWEST_INSTANCE=N (N ≥ 2) starts another engine of the same release beside the first,
# with its own socket, data root, bridge and subnet: an empty machine for tests that need two
# (a cache exported by one and imported by the other). It exports PYSLIM_NEWEST<N>_HOST & co.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTANCE=${PYSLIM_NEWEST_INSTANCE:-1}
[[ "$INSTANCE" =~ ^[1-9][0-9]?$ ]] || { echo "[newest] PYSLIM_NEWEST_INSTANCE must be 1-99, not $INSTANCE" >&2; exit 2; }
BASE=/opt/pyslim-newest            # extracted releases, one directory each; `current` links one
APT_DIR=/var/cache/pyslim-newest   # a private apt state: the system's lists and pins stay as they are
LOCK_DIR=/run/pyslim-newest        # instance 1's run directory; its lock guards the releases too
if [ "$INSTANCE" = 1 ]; then
  RUN_DIR=/run/pyslim-newest
  DATA_ROOT=/var/lib/pyslim-newest
  SUFFIX=""
else
  RUN_DIR=/run/pyslim-newest-$INSTANCE
  DATA_ROOT=/var/lib/pyslim-newest-$INSTANCE
  SUFFIX=$INSTANCE
fi
SOCK="$RUN_DIR/docker.sock"
HOST="unix://$SOCK"
CLI_CONFIG="$BASE/docker-config"
BRIDGE=pyslimnew$((INSTANCE - 1))
SUBNET=${PYSLIM_NEWEST_SUBNET:-10.214.$((INSTANCE - 1)).0/24}
BRIDGE_ADDR=${SUBNET%.*}.1/${SUBNET#*/}
# sid moves: look for a newer release at most this often, so a warm start needs no network.
REFRESH_DAYS=${PYSLIM_NEWEST_REFRESH_DAYS:-7}
# The stand-ins the newest engine builds on: each `python:V` and `python:V-slim` of the main engine.
read -ra PYTHONS <<<"${PYSLIM_NEWEST_PYTHONS:-3.11}"
PACKAGES=(docker.io docker-cli docker-buildx containerd)
log() { echo "[newest${SUFFIX:+ $SUFFIX}] $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root (downloads to $BASE, starts dockerd, sets up a bridge)"; exit 1; }
# One caller at a time (parallel CI steps, a developer's shell): the rest wait, then find it up.
# One lock for every instance: they share the releases that fetch and prune_releases change.
mkdir -p "$LOCK_DIR" "$RUN_DIR"
exec 9>"$LOCK_DIR/lock"
flock 9

# The main engine (and its stand-ins, built there on a fresh machine) is where the base images
# come from; engine.sh is idempotent and takes a fraction of a second when it runs.
# Without the lock's fd: a dockerd it starts would hold the lock for good.
main_host=$(scripts/engine.sh 9>&- | sed -n 's/^export DOCKER_HOST=//p')
main() { DOCKER_HOST="$main_host" /usr/bin/docker "$@"; }

host_tools() {
  # bookworm's runc: sid's needs a newer glibc (GLIBC_2.38) than bookworm has. iptables for the
  # bridge's NAT below. engine.sh installs both; a machine set up otherwise may lack them.
  if [ -x /usr/sbin/runc ] && command -v iptables >/dev/null; then return; fi
  log "installing runc and iptables from the machine's own release"
  if ! apt-get install -y -qq --no-install-recommends runc iptables >&2 2>/dev/null; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends runc iptables >&2
  fi
}

apt_private() {
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' \
    >"$APT_DIR/sources.list"
  # Every path apt reads or writes is ours: no sid line in sources.list.d, no pin, no lists of the
  # system's touched. The sandbox user would need access to our directories; root downloads.
  local tool=$1; shift
  "$tool" -o Dir::Etc::SourceList="$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
    -o APT::Sandbox::User=root "$@"
}

fetch() {
  local stamp="$BASE/checked"
  if [ -e "$BASE/current/usr/sbin/dockerd" ] && [ -n "$(find "$stamp" -mtime "-$REFRESH_DAYS" 2>/dev/null)" ]; then
    return
  fi
  log "asking Debian sid for its newest ${PACKAGES[*]}"
  if ! apt_private apt-get update -qq >&2; then
    # Offline, or the mirror is down: the release we have still serves.
    [ -e "$BASE/current/usr/sbin/dockerd" ] || exit 1
    log "could not reach Debian sid; keeping $(readlink "$BASE/current")"
    return
  fi
  local release="" package version
  for package in "${PACKAGES[@]}"; do
    version=$(apt_private apt-cache show --no-all-versions "$package" 2>/dev/null | sed -n 's/^Version: //p')
    [ -n "$version" ] || { log "sid has no $package"; exit 1; }
    release+="${release:+_}$package-$version"
  done
  # One directory per combination of versions: a new containerd alone is a new release too.
  release=${release//[:~]/.}
  if [ ! -e "$BASE/$release/usr/sbin/dockerd" ]; then
    local debs
    debs=$(mktemp -d /var/tmp/pyslim-newest-debs.XXXXXX)
    (cd "$debs" && apt_private apt-get download -qq "${PACKAGES[@]}" >&2)
    rm -rf "$BASE/$release.tmp"
    mkdir -p "$BASE/$release.tmp"
    local deb
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$BASE/$release.tmp"; done
    rm -rf "$debs"
    # sid's binaries are built for sid: one that needs a newer libc than this machine's (as sid's
    # runc does) fails here, and the release we have stays in use.
    local binary
    for binary in usr/sbin/dockerd usr/bin/containerd usr/bin/docker; do
      if ! "$BASE/$release.tmp/$binary" --version >/dev/null 2>&1; then
        log "sid's $binary does not run here: $("$BASE/$release.tmp/$binary" --version 2>&1 | head -n 1)"
        rm -rf "$BASE/$release.tmp"
        [ -e "$BASE/current/usr/sbin/dockerd" ] || exit 1
        touch "$stamp"
        return
      fi
    done
    mv "$BASE/$release.tmp" "$BASE/$release"
    log "extracted $release into $BASE/$release"
  fi
  ln -sfn "$release" "$BASE/current"
  touch "$stamp"
}

bin() { echo "$BASE/current/usr/$1"; }
cli() { DOCKER_HOST="$HOST" DOCKER_CONFIG="$CLI_CONFIG" "$(bin bin/docker)" "$@"; }

cli_config() {
  # sid's buildx for sid's CLI; without it the CLI finds trixie's 0.13 in /usr/libexec.
  mkdir -p "$CLI_CONFIG/cli-plugins"
  ln -sfn "$(bin libexec/docker/cli-plugins/docker-buildx)" "$CLI_CONFIG/cli-plugins/docker-buildx"
  [ -e "$CLI_CONFIG/config.json" ] || echo '{}' >"$CLI_CONFIG/config.json"
}

network() {
  # Never --bridge=none: a dockerd started so deletes the host's docker0 and breaks the main
  # engine. This engine gets a bridge of its own instead.
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add name "$BRIDGE" type bridge
  fi
  # Read whole, not piped to `grep -q`: grep exiting first would fail the pipe (pipefail).
  local addresses
  addresses=$(ip -o addr show dev "$BRIDGE")
  [[ "$addresses" == *"inet $BRIDGE_ADDR "* ]] || ip addr add "$BRIDGE_ADDR" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # --iptables=false: two dockerds managing the same DOCKER* chains would rewrite each other's
  # rules (and the main engine's). But then the default network has no NAT, and pyslim's steps,
  # which download on the sandbox network (not host), reach neither Debian's mirror nor PyPI.
  # So NAT by hand, every rule scoped to this bridge and subnet: out through the host (and its
  # transparent proxy), replies back in. The main engine's FORWARD policy is DROP, so accept
  # before its chains; its own rules are not touched.
  rule() { iptables -t "$1" -C "${@:2}" 2>/dev/null || iptables -t "$1" -I "${@:2}"; }
  rule nat POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -j MASQUERADE
  rule filter FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j ACCEPT
  rule filter FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || sysctl -qw net.ipv4.ip_forward=1
}

running_version() { cli version --format '{{.Server.Version}}' 2>/dev/null; }

stop_engine() {
  local pid
  pid=$(cat "$RUN_DIR/docker.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd $pid (started from another release or configuration)"
    kill "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$RUN_DIR/docker.pid" "$SOCK"
}

start_engine() {
  # The real directory, not `current`: a running engine keeps the release it started from
  # (its containerd and shims come from there) until it is restarted onto a new one.
  local release dir
  release=$(readlink "$BASE/current")
  dir="$BASE/$release"
  # The containerd image store: multi-platform images, attestations and registry cache export
  # (the classic store refuses all three). runc from bookworm, by path, so no runc on PATH or in
  # the extracted release can take its place.
  local config='{
  "features": {"containerd-snapshotter": true},
  "runtimes": {"bookworm-runc": {"path": "/usr/sbin/runc"}},
  "default-runtime": "bookworm-runc"
}'
  local args=(--host "$HOST" --data-root "$DATA_ROOT" --exec-root "$RUN_DIR/exec"
    --pidfile "$RUN_DIR/docker.pid" --bridge "$BRIDGE" --iptables=false --ip6tables=false
    --config-file "$RUN_DIR/daemon.json")
  # A running engine is kept when it was started from this release with this configuration.
  local started="$release ${args[*]} $config"
  if [ -n "$(running_version)" ] && [ "$(cat "$RUN_DIR/started" 2>/dev/null)" = "$started" ]; then
    return
  fi
  stop_engine
  mkdir -p "$RUN_DIR" "$DATA_ROOT"
  echo "$config" >"$RUN_DIR/daemon.json"
  log "starting dockerd from $release on $SOCK (bridge $BRIDGE $BRIDGE_ADDR)"
  # sid's containerd, its shim and docker-proxy first on PATH: dockerd starts the containerd it
  # finds there. setsid, closed stdin/stdout and no lock fd: a caller's `eval "$(...)"` must not
  # wait on the daemon, nor the next call on the lock it would hold.
  PATH="$dir/usr/bin:$dir/usr/sbin:$PATH" setsid "$dir/usr/sbin/dockerd" "${args[@]}" \
    </dev/null >"$RUN_DIR/dockerd.log" 2>&1 9>&- &
  for _ in $(seq 120); do
    if [ -n "$(running_version)" ]; then
      echo "$started" >"$RUN_DIR/started"
      return
    fi
    sleep 0.5
  done
  log "dockerd did not come up; its log:"; tail -n 40 "$RUN_DIR/dockerd.log" >&2; exit 1
}

prune_releases() {
  local dir current in_use
  current=$(readlink "$BASE/current")
  # What every instance was started from: a running engine keeps its release until restarted.
  # (An instance not started yet has no file: cat fails, and pipefail must not end the script.)
  in_use=$(cat /run/pyslim-newest/started /run/pyslim-newest-*/started 2>/dev/null | cut -d' ' -f1 || true)
  for dir in "$BASE"/*/; do
    dir=$(basename "$dir")
    case "$dir" in "$current" | current | docker-config) continue ;; esac
    grep -qxF "$dir" <<<"$in_use" || rm -rf "${BASE:?}/$dir"
  done
}

# What identifies an image in both stores: its layers' diff IDs, creation time and the config a
# build reads. Image IDs cannot be compared (the containerd store's is the manifest's digest, the
# classic store's the config's), nor `.Config` whole (the stores render empty fields differently).
identity() {
  "$1" image inspect "$2" 2>/dev/null --format \
    '{{json .RootFS.Layers}} {{.Created}} {{json .Config.Env}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.Labels}}' \
    || echo "no $2"
}

# `docker save | docker load` rather than through the loopback registry: for python:3.11 and
# python:3.11-slim (710 MB, the slim layer shared) it took 12-15 s; a push from the main engine's
# classic store (which gzips every layer) took 37 s, and the pull 11 s more.
stand_ins() {
  local images=() version tag
  for version in "${PYTHONS[@]}"; do
    for tag in "python:$version-slim" "python:$version"; do
      main image inspect "$tag" >/dev/null 2>&1 || { log "the main engine has no $tag"; exit 1; }
      [ "$(identity main "$tag")" = "$(identity cli "$tag")" ] || images+=("$tag")
    done
  done
  [ ${#images[@]} -gt 0 ] || return 0
  log "copying ${images[*]} from the main engine"
  local started=$SECONDS
  main save "${images[@]}" | cli load -q >&2
  # The images these replace: nothing here names them any more.
  cli image prune -f >/dev/null
  log "copied in $((SECONDS - started)) s"
}

host_tools
fetch
cli_config
# Every time, not only at start: the rules are gone after a reboot or a firewall reload while
# the bridge and the engine may not be.
network
start_engine
prune_releases
stand_ins
echo "export PYSLIM_NEWEST${SUFFIX}_HOST=$HOST"
echo "export PYSLIM_NEWEST${SUFFIX}_DOCKER=$(bin bin/docker)"
echo "export PYSLIM_NEWEST${SUFFIX}_CONFIG=$CLI_CONFIG"

#!/usr/bin/env bash
# A container registry on loopback, for the end-to-end tests: the frontend is pushed there and
# builds name it as `# syntax=localhost:5055/pyslim:TAG`, as users name a published frontend (on
# both engines: scripts/engine.sh's and scripts/engine-newest.sh's).
# Idempotent: a running registry is left alone. Prints nothing on stdout but the
# `export PYSLIM_REGISTRY=...` line, so `eval "$(scripts/registry.sh)"` works.
set -euo pipefail

PORT=${PYSLIM_REGISTRY_PORT:-5055}
RUN_DIR=/run/pyslim-registry
STORAGE=/var/lib/pyslim-registry
CONFIG="$RUN_DIR/config.yml"
PIDFILE="$RUN_DIR/registry.pid"
log() { echo "[registry] $*" >&2; }

need_root() { [ "$(id -u)" = 0 ] || { log "must run as root (installs a package, writes $STORAGE)"; exit 1; }; }

answers() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/v2/"; }

install_registry() {
  if [ -x /usr/bin/docker-registry ] && command -v curl >/dev/null; then return; fi
  need_root
  log "installing Debian's docker-registry (and curl, to see it answer)"
  # Lists may be missing on a fresh machine (or stale): update only when the install needs it.
  if ! apt-get install -y -qq --no-install-recommends docker-registry curl >&2 2>/dev/null; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends docker-registry curl >&2
  fi
  # The package's own service listens on every interface (:5000). Where systemd runs, it has just
  # been started: stop it and keep it off; only the loopback instance below is wanted.
  if [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >&2 2>/dev/null || true
  fi
}

start_registry() {
  if command -v curl >/dev/null && answers; then return; fi
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    log "pid $(cat "$PIDFILE") is running but 127.0.0.1:$PORT does not answer; see $RUN_DIR/registry.log"
    exit 1
  fi
  need_root
  mkdir -p "$RUN_DIR" "$STORAGE"
  # Our own config, not the package's (/etc/docker/registry: every interface, htpasswd auth).
  # 127.0.0.1 only: nothing off this machine may reach it. Deletes are allowed, so what tests
  # pushed can be removed (and garbage-collected).
  cat >"$CONFIG" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STORAGE
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
YAML
  log "starting docker-registry on 127.0.0.1:$PORT (storage $STORAGE)"
  # setsid and closed stdin/stdout: a caller's pipe (e.g. `eval "$(...)"`) must not wait on it.
  # Nor may the next call wait on the lock it would hold.
  setsid /usr/bin/docker-registry serve "$CONFIG" </dev/null >"$RUN_DIR/registry.log" 2>&1 9>&- &
  echo $! >"$PIDFILE"
  for _ in $(seq 100); do
    answers && return
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.1
  done
  log "docker-registry did not come up; its log:"; tail -n 20 "$RUN_DIR/registry.log" >&2; exit 1
}

if [ -x /usr/bin/docker-registry ] && command -v curl >/dev/null && answers; then
  echo "export PYSLIM_REGISTRY=localhost:$PORT"
  exit 0
fi
need_root
# One caller at a time: the rest wait, then find it up.
mkdir -p "$RUN_DIR"
exec 9>"$RUN_DIR/lock"
flock 9
install_registry
start_registry
echo "export PYSLIM_REGISTRY=localhost:$PORT"

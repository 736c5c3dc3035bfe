#!/usr/bin/env bash
# One dependency set, built cold two ways: from its lock (examples/uv-lock: pinned with hashes,
# installed with --no-deps, no resolution) and from a requirements file of the same pins beside
# the same app (resolved by uv). Writes bench/LOCKS.md.
# Usage: bench/locks.sh [RUNS]     (default 3; every build starts from an empty build cache)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/frontend-image.sh
runs=${1:-3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/uv-lock "$work/lock"
cp -r examples/uv-lock "$work/requirements"
rm "$work/requirements/uv.lock"
# The lock's own pins for a plain install on Linux, as a requirements file (Python's tomllib; no
# marker in this lock applies to that set).
python3 - "$work/lock/uv.lock" >"$work/requirements/requirements.txt" <<'PY'
import sys, tomllib
lock = tomllib.load(open(sys.argv[1], "rb"))
dev = {"pytest", "pluggy", "iniconfig", "pygments", "packaging", "colorama", "python-dotenv"}
for p in lock["package"]:
    if "registry" in p["source"] and p["name"] not in dev:
        print(f"{p['name']}=={p['version']}")
PY
sed -i 's/^app: \.$/requirements: requirements.txt\napp: ./' "$work/requirements/pyslim.yaml"

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cold() { # context → "TOTAL DEPENDENCY-STEP" seconds
  $DOCKER builder prune -af >/dev/null
  local start step
  start=$(now)
  $DOCKER buildx build --progress=plain -f "$1/pyslim.yaml" "$1" >"$work/log" 2>&1
  step=$(grep -m1 'build dependency wheels' "$work/log" | cut -d' ' -f1)
  awk -v a="$start" -v b="$(now)" -v s="$(grep "^$step DONE" "$work/log" | tail -1 | awk '{ print $3 }' | tr -d s)" \
    'BEGIN { printf "%.1f %.1f\n", b - a, s }'
}
lock_times=() requirement_times=() lock_steps=() requirement_steps=()
for _ in $(seq "$runs"); do
  read -r total step < <(cold "$work/lock")
  lock_times+=("$total") lock_steps+=("$step")
  read -r total step < <(cold "$work/requirements")
  requirement_times+=("$total") requirement_steps+=("$step")
done
lock=$(printf '%s\n' "${lock_times[@]}" | median)
requirements=$(printf '%s\n' "${requirement_times[@]}" | median)
lock_step=$(printf '%s\n' "${lock_steps[@]}" | median)
requirement_step=$(printf '%s\n' "${requirement_steps[@]}" | median)
{
  echo "# Cold builds from a lock and from requirements"
  echo
  echo "Engine: $($DOCKER version --format '{{.Server.Version}}'), $(date -u +%Y-%m-%d), $(nproc) cores."
  echo "Command: \`bench/locks.sh $runs\`; medians of $runs runs, each from an empty build cache"
  echo "(\`docker builder prune -af\`, cache mounts included)."
  echo
  echo "| set | from | cold s | dependency step s | runs (cold) |"
  echo "| --- | --- | ---: | ---: | --- |"
  echo "| examples/uv-lock (8 packages + the app) | uv.lock: pinned, hashes checked, no resolution | $lock | $lock_step | ${lock_times[*]} |"
  echo "| examples/uv-lock (8 packages + the app) | requirements.txt of the same pins, resolved by uv | $requirements | $requirement_step | ${requirement_times[*]} |"
} | tee bench/LOCKS.md

#!/usr/bin/env bash
# Slim against minimal, per example: the image sizes, the Debian packages the shared-library
# scan installs when the spec's `runtime:` line is removed, and the smoke test's time. Prints a
# Markdown table; `bench/minimal.sh > bench/MINIMAL.md` records it. Not part of the test suite
# (sizes and times are not assertions; tests/minimal.rs holds the bounds). Usage:
# bench/minimal.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/frontend-image.sh

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  # inherit needs another image's wheels (a --build-context): the other examples show the same.
  for dir in examples/*/; do [ "$(basename "$dir")" = inherit ] || names+=("$(basename "$dir")"); done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mb() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1000000 }'; }

# build NAME FLAVOR [drop-runtime] [docker option...]: the build's log in $work/log, the image
# pyslim-bench/NAME-FLAVOR
build() {
  local ctx="$work/$1-$2${3:+-bare}"
  rm -rf "$ctx"; cp -r "examples/$1" "$ctx"
  if [ -n "${3:-}" ]; then sed -i '/^runtime:/d' "$ctx/pyslim.yaml"; fi
  echo "flavor: $2" >>"$ctx/pyslim.yaml"
  $DOCKER buildx build --progress=plain --load "${@:4}" -t "pyslim-bench/$1-$2" -f "$ctx/pyslim.yaml" "$ctx" \
    >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
}

echo "engine: Docker $($DOCKER version --format '{{.Server.Version}}'), $(date -u +%Y-%m-%d)"
echo
echo "| example | slim MB | minimal MB | packages the scan installs without \`runtime:\` | smoke test s (modules) |"
echo "| --- | ---: | ---: | --- | ---: |"
for name in "${names[@]}"; do
  build "$name" slim
  slim=$($DOCKER image inspect "pyslim-bench/$name-slim" --format '{{.Size}}')
  # Uncached, so that the smoke test runs and says how long it took.
  build "$name" minimal "" --no-cache
  minimal=$($DOCKER image inspect "pyslim-bench/$name-minimal" --format '{{.Size}}')
  smoke=$(grep -o 'smoke test: imported [0-9]* modules of [0-9]* distributions in [0-9.]* s' "$work/log" | tail -1 |
    awk '{ printf "%s (%s)", $(NF-1), $4 }' || true)
  build "$name" slim bare
  added=$(grep -o 'apt-get install [^(]*(shared libraries the built files need)' "$work/log" | head -1 |
    sed 's/apt-get install //; s/ (shared.*//' || true)
  echo "| $name | $(mb "$slim") | $(mb "$minimal") | ${added:-none} | ${smoke:-–} |"
done

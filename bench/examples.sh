#!/usr/bin/env bash
# Size and build times of every example, built by the frontend on the local engine.
# For each example: image size next to its runtime base, a cold build (empty build cache,
# cache mounts included), a rebuild with nothing changed, and a rebuild after changing only
# the app's code. Prints a Markdown table; `bench/examples.sh > bench/EXAMPLES.md` records it.
# Not part of the test suite (timings are not assertions). Usage: bench/examples.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/frontend-image.sh

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for dir in examples/*/; do names+=("$(basename "$dir")"); done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { # runs "$@" quietly, prints wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

mb() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1000000 }'; }

echo "engine: Docker $($DOCKER version --format '{{.Server.Version}}'), $(date -u +%Y-%m-%d)"
echo
echo "| example | image MB | runtime base MB | added MB | layers added | cold build s | no-change rebuild s | app-code rebuild s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in "${names[@]}"; do
  ctx="$work/$name"
  cp -r "examples/$name" "$ctx"
  tag="pyslim-bench/$name"
  extra=()
  $DOCKER builder prune -af >/dev/null
  if [ "$name" = inherit ]; then
    # Its wheels come from another build's `--target wheels` (made before the clock starts).
    $DOCKER buildx build -q --load -t pyslim-bench/ldap-wheels --target wheels \
      -f examples/ldap/pyslim.yaml examples/ldap >/dev/null
    extra=(--build-context wheels=docker-image://pyslim-bench/ldap-wheels)
  fi
  build() { $DOCKER buildx build --progress=plain --load -t "$tag" "${extra[@]}" -f "$ctx/pyslim.yaml" "$ctx"; }
  cold=$(seconds build)
  warm=$(seconds build)
  # An app-code change: a new module in the app's package, which only the app wheel sees.
  pkg=$(find "$ctx" -name __init__.py -not -path '*/.*' | head -n1)
  if [ -n "$pkg" ]; then
    echo "BENCH_STAMP = '$(date +%s%N)'" >"$(dirname "$pkg")/_bench_stamp.py"
    app=$(seconds build)
  else
    app="-"  # no app code
  fi
  # The frontend records the runtime base it resolved in the image's labels.
  base=$($DOCKER image inspect "$tag" --format '{{index .Config.Labels "org.opencontainers.image.base.name"}}')
  size=$($DOCKER image inspect "$tag" --format '{{.Size}}')
  base_size=$($DOCKER image inspect "$base" --format '{{.Size}}')
  layers=$(( $($DOCKER image inspect "$tag" --format '{{len .RootFS.Layers}}') - $($DOCKER image inspect "$base" --format '{{len .RootFS.Layers}}') ))
  echo "| $name | $(mb "$size") | $(mb "$base_size") | $(mb $((size - base_size))) | $layers | $cold | $warm | $app |"
done

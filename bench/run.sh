#!/usr/bin/env bash
# The benchmark: every case built by every hand-written pattern and by pyslim, side by side on
# the same engine. Prints a Markdown table and writes it to bench/RESULTS.md.
# Usage: bench/run.sh [--quick] [CASE...]      --quick: one run each instead of three
# Cases: bench/cases/*; patterns: bench/patterns/*.Dockerfile, and the case's pyslim.yaml built
# with the default installer (uv) and with `installer: pip`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/frontend-image.sh

command="${PATTERNS:+PATTERNS=\"$PATTERNS\" }bench/run.sh${*:+ $*}"
runs=3
if [ "${1:-}" = --quick ]; then runs=1; shift; fi
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then cases=(pure compiler syslibs scientific async); fi
# PATTERNS="user uv pyslim" bench/run.sh: a subset (the table says which ran).
read -r -a patterns <<<"${PATTERNS:-single user venv wheels best uv pyslim pyslim-pip}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run -q --release -p pyslim-frontend --example spec_to_llb \
  examples/*/pyslim.yaml bench/cases/*/pyslim.yaml >"$work/spec_to_llb.txt"
$DOCKER save python:3.11-slim -o "$work/slim.tar"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
spread() { tr ' ' '\n' | grep -v '^$' | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f", hi - lo }'; }
mb() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1000000 }'; }
words() { tr '\n' ' ' <"$1" | sed 's/ *$//'; }

build() { # pattern case-context tag
  local pattern=$1 ctx=$2 tag=$3
  if [[ $pattern == pyslim* ]]; then
    $DOCKER buildx build --progress=plain --load -t "$tag" -f "$ctx/pyslim.yaml" "$ctx"
  else
    $DOCKER buildx build --progress=plain --load -t "$tag" -f "bench/patterns/$pattern.Dockerfile" \
      --build-arg "SYSTEM=$(words "$ctx/system.txt")" --build-arg "RUNTIME=$(words "$ctx/runtime.txt")" "$ctx"
  fi
}

timed() { # label, then the build arguments; prints seconds, fails loudly
  local label=$1 start; shift
  start=$(now)
  if ! build "$@" >"$work/log" 2>&1; then
    echo "[bench] $label failed:" >&2; tail -n 30 "$work/log" >&2; return 1
  fi
  elapsed "$start"
}

layers() { $DOCKER image inspect "$1" --format '{{range .RootFS.Layers}}{{.}} {{end}}'; }
changed() { # how many layer positions differ between two layer lists
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); m = split(b, y, " "); c = 0
    for (i = 1; i <= (n > m ? n : m); i++) if (x[i] != y[i]) c++; print c }'
}

table="$work/table.md"
{
  echo "| case | pattern | size MB | overhead MB | wheels MB | caches MB | compiler | layers | cold s | app-change s | layers changed | +1 requirement s | no change s | runs |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$table"

for case in "${cases[@]}"; do
  declare -A row=() cold=() app=() req=() warm=() changes=()
  floor=""
  # Run by run, every pattern in turn: a drift in the machine's load hits them alike. Cold is
  # the first build after pruning all build cache (cache mounts included), as on a new machine.
  for run in $(seq "$runs"); do
    for pattern in "${patterns[@]}"; do
      tag="pyslim-bench/$case-$pattern"
      ctx="$work/ctx"
      rm -rf "$ctx" && cp -r "bench/cases/$case" "$ctx"
      [ "$pattern" = pyslim-pip ] && echo "installer: pip" >>"$ctx/pyslim.yaml"
      $DOCKER builder prune -af >/dev/null
      cold[$pattern]+=" $(timed "$case/$pattern cold" "$pattern" "$ctx" "$tag")"
      before=$(layers "$tag")
      echo "STAMP = '$(now)'" >"$ctx/benchapp/_stamp.py"
      app[$pattern]+=" $(timed "$case/$pattern app change" "$pattern" "$ctx" "$tag")"
      changes[$pattern]=$(changed "$before" "$(layers "$tag")")
      echo "six==1.16.0" >>"$ctx/requirements.txt"
      req[$pattern]+=" $(timed "$case/$pattern +requirement" "$pattern" "$ctx" "$tag")"
      warm[$pattern]+=" $(timed "$case/$pattern no change" "$pattern" "$ctx" "$tag")"
    done
  done
  # pyslim first: its image defines the case's floor (payload above the slim base).
  for pattern in pyslim "${patterns[@]}"; do
    [ -n "${row[$pattern]:-}" ] && continue
    tag="pyslim-bench/$case-$pattern"
    ok=no
    if [ "$($DOCKER run --rm "$tag" 2>/dev/null | tail -n1)" = OK ]; then ok=yes; fi
    compiler=no
    if $DOCKER run --rm --entrypoint sh "$tag" -c 'command -v gcc || command -v cc' >/dev/null 2>&1; then compiler=yes; fi
    $DOCKER save "$tag" -o "$work/image.tar"
    m=$(python3 bench/measure.py "$work/image.tar" "$work/slim.tar")
    get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$1'])" "$m"; }
    [ -z "$floor" ] && floor=$(get payload_bytes)
    overhead=$(( $(get added_bytes) - floor ))
    size=$($DOCKER image inspect "$tag" --format '{{.Size}}')
    c=$(echo "${cold[$pattern]}" | median); a=$(echo "${app[$pattern]}" | median)
    r=$(echo "${req[$pattern]}" | median); w=$(echo "${warm[$pattern]}" | median)
    spreads="spread: cold $(echo "${cold[$pattern]}" | spread), app $(echo "${app[$pattern]}" | spread), req $(echo "${req[$pattern]}" | spread), no change $(echo "${warm[$pattern]}" | spread)"
    [ "$runs" = 1 ] && spreads="1 run"
    [ "$ok" = yes ] || spreads="$spreads; DOES NOT RUN"
    row[$pattern]="| $case | $pattern | $(mb "$size") | $(mb "$overhead") | $(mb "$(get wheel_bytes)") | $(mb "$(get cache_bytes)") | $compiler | $(get layers_added) | $c | $a | ${changes[$pattern]} | $r | $w | $spreads |"
    echo "[bench] ${row[$pattern]}" >&2
  done
  for pattern in "${patterns[@]}"; do echo "${row[$pattern]}" >>"$table"; done
  unset row cold app req warm changes
done

{
  echo "# Benchmark: pyslim against the hand-written patterns"
  echo
  echo "Engine: Docker $($DOCKER version --format '{{.Server.Version}}'), $(date -u +%Y-%m-%d), $(nproc) cores."
  echo "Command: \`$command\`; times are medians of $runs run(s) (spread = max − min)."
  echo "Overhead = bytes the image's layers add above python:3.11-slim minus the case's floor"
  echo "(the installed dependency tree and runtime libraries, measured from pyslim's image as the files"
  echo "owned by added dists' RECORDs and added dpkg packages). Wheel and cache bytes are read from"
  echo "the layers (\`docker save\`). Cold = the first build after pruning all build cache, cache"
  echo "mounts included. Patterns run in turn within each run, so a drift in load hits them alike."
  echo
  cat "$table"
  echo
  echo "## pyslim against the best hand-written form"
  echo
  python3 bench/targets.py "$table"
  echo
  echo "## The frontend"
  echo
  echo "Image: $($DOCKER image inspect org/pyslim --format '{{.Size}}') bytes."
  echo "Its share of a build: \"no change\" is a build whose every step is cached, i.e. resolving"
  echo "the bases, starting the frontend, planning and exporting; pyslim's minus the best"
  echo "hand-written form's (BuildKit's built-in Dockerfile frontend, same cached work) bounds what"
  echo "the frontend itself adds. Spec → LLB in-process (\`cargo run --release -p pyslim-frontend --example spec_to_llb\`):"
  echo
  echo '```'
  cat "$work/spec_to_llb.txt"
  echo '```'
} >bench/RESULTS.md
cat bench/RESULTS.md

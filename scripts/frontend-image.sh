#!/usr/bin/env bash
# Builds the frontend as a static binary on the host and loads it as the image `org/pyslim`
# through Dockerfile.frontend's offline path (no Rust image is pulled).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

target=x86_64-unknown-linux-gnu
RUSTFLAGS='-C target-feature=+crt-static' \
  cargo build --release --locked -q -p pyslim-frontend --target "$target" --target-dir target/static
dist=target/frontend-context
mkdir -p "$dist/out"
cp "target/static/$target/release/pyslim-frontend" "$dist/out/pyslim-frontend"
$DOCKER buildx build --quiet -f Dockerfile.frontend --build-context "build=$dist" \
  -t org/pyslim --load "$dist" >/dev/null
echo "[frontend] org/pyslim: $($DOCKER image inspect org/pyslim --format '{{.Size}}') bytes" >&2

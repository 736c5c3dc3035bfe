#!/usr/bin/env bash
# Builds the frontend as static binaries on the host and makes the image through
# Dockerfile.frontend's offline path (no Rust image is pulled):
# - by default, the linux/amd64 image `org/pyslim` in the main engine;
# - with PYSLIM_FRONTEND_PLATFORMS=linux/amd64,linux/arm64 and PYSLIM_FRONTEND_PUSH=REPOSITORY, an
#   index of both platforms pushed to REPOSITORY:TAG, TAG from the binaries' digest (a new
#   frontend, a new tag), built on a containerd-store engine (the classic store keeps no index);
#   stdout then says `export PYSLIM_FRONTEND_REF=REPOSITORY:TAG`, which the tests read.
#   arm64 is cross-compiled for aarch64-unknown-linux-musl and linked by rust-lld.
# PYSLIM_FRONTEND_IMAGE names another local image (a branch's frontend beside the released
# one); the end-to-end tests read the same variable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
image=${PYSLIM_FRONTEND_IMAGE:-org/pyslim}
platforms=${PYSLIM_FRONTEND_PLATFORMS:-linux/amd64}
push=${PYSLIM_FRONTEND_PUSH:-}

dist=target/frontend-context
rm -rf "$dist/out"
for platform in ${platforms//,/ }; do
  case "$platform" in
    linux/amd64) arch=amd64 target=x86_64-unknown-linux-gnu flags='-C target-feature=+crt-static' ;;
    linux/arm64) arch=arm64 target=aarch64-unknown-linux-musl flags='-C linker=rust-lld -C target-feature=+crt-static'
      rustup target list --installed | grep -qx "$target" || rustup target add "$target" >&2 ;;
    *) echo "[frontend] no binary for $platform (linux/amd64, linux/arm64)" >&2; exit 2 ;;
  esac
  RUSTFLAGS="$flags" cargo build --release --locked -q -p pyslim-frontend --target "$target" --target-dir target/static
  mkdir -p "$dist/out/$arch"
  cp "target/static/$target/release/pyslim-frontend" "$dist/out/$arch/pyslim-frontend"
done

if [ -z "$push" ]; then
  [ "$platforms" = linux/amd64 ] || { echo "[frontend] several platforms need PYSLIM_FRONTEND_PUSH=REF" >&2; exit 2; }
  $DOCKER buildx build --quiet -f Dockerfile.frontend --build-context "build=$dist" \
    -t "$image" --load "$dist" >/dev/null
  echo "[frontend] $image: $($DOCKER image inspect "$image" --format '{{.Size}}') bytes" >&2
  exit 0
fi
# An index is built and pushed by the newest engine (containerd store); the registry on loopback
# is reachable from it without configuration.
newest_env=$(scripts/engine-newest.sh)
eval "$newest_env"
tag=$(cd "$dist/out" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-12)
reference="$push:$tag"
DOCKER_HOST=$PYSLIM_NEWEST_HOST DOCKER_CONFIG=$PYSLIM_NEWEST_CONFIG "$PYSLIM_NEWEST_DOCKER" \
  buildx build --quiet -f Dockerfile.frontend --build-context "build=$dist" \
  --platform "$platforms" -t "$reference" --push "$dist" >/dev/null
echo "[frontend] pushed $reference ($platforms)" >&2
echo "export PYSLIM_FRONTEND_REF=$reference"

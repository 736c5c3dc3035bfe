# Shared by the scripts: the private engine and the docker CLI that matches it.
# shellcheck shell=bash
eval "$("$(dirname "${BASH_SOURCE[0]}")/engine.sh")"
# Debian's docker CLI matches the engine; fall back to whatever `docker` is on PATH.
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
export DOCKER DOCKER_HOST

#!/usr/bin/env bash
# What the end-to-end tests run beside the engine: an SSH server and agent (git dependencies
# over SSH) and git. Idempotent; prints nothing on success.
set -euo pipefail
if [ -x /usr/sbin/sshd ] && command -v ssh-agent >/dev/null && command -v git >/dev/null; then exit 0; fi
[ "$(id -u)" = 0 ] || { echo "[tools] must run as root to install openssh-server and git" >&2; exit 1; }
echo "[tools] installing openssh-server, openssh-client and git" >&2
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends openssh-server openssh-client git >&2

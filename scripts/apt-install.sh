#!/usr/bin/env bash
# Install Debian packages with apt-get (as root; never a download of our own),
# or fail loudly (exit 1) saying how to install them by hand.
# Usage: scripts/apt-install.sh "<what they are for>" PACKAGE...
set -u
why=$1
shift
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "[setup] ERROR: $* missing and cannot be installed (needs root and apt-get)." >&2
    echo "[setup] Install with: sudo apt-get install $*" >&2
    exit 1
fi
echo "[setup] installing $* from apt ($why)"
if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@" >/dev/null; }; then
    echo "[setup] ERROR: apt-get install $* failed; install by hand: apt-get install $*" >&2
    exit 1
fi

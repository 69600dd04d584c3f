#!/usr/bin/env bash
# Create or refresh .venv with the pinned dependencies. Idempotent and cheap
# when nothing changed: the install is skipped while the stamp matches the
# hash of pyproject.toml + constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

# Voice messages are decoded by ffmpeg (Debian's package): install it when
# missing, like scripts/install-browser.sh does for chromium; fail loudly when
# that is impossible rather than start without it.
if ! command -v ffmpeg >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "[setup] ERROR: ffmpeg is missing and cannot be installed (needs root and apt-get)." >&2
        echo "[setup] Install it with: sudo apt-get install ffmpeg" >&2
        exit 1
    fi
    echo "[setup] installing ffmpeg from apt (it decodes voice messages)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq ffmpeg >/dev/null; }; then
        echo "[setup] ERROR: apt-get install ffmpeg failed; install it by hand: apt-get install ffmpeg" >&2
        exit 1
    fi
fi

venv=.venv
want=$(cat pyproject.toml constraints.txt requirements-hashed.txt | sha256sum | cut -c1-16)
stamp="$venv/.kepu-installed"

if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "[setup] $venv is broken or not Python 3.10; recreating it"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    py=$(scripts/find-python.sh)
    echo "[setup] creating $venv with $py"
    "$py" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "[setup] installing pinned dependencies (first time: a few minutes)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.0"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-hashes --no-deps -r requirements-hashed.txt
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c constraints.txt -e ".[test]"
    "$venv/bin/python" -m pip check
    echo "$want" > "$stamp"
fi

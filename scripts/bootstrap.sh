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
    scripts/apt-install.sh "it decodes voice messages" ffmpeg || exit 1
fi

# Several Rasa processes (the production profile) run behind Debian's nginx.
instances=${KEPU_RASA_INSTANCES:-1}
if [[ "$instances" =~ ^[0-9]+$ ]] && [ "$instances" -gt 1 ] && [ "${KEPU_RASA_PROXY:-nginx}" = nginx ]; then
    scripts/install-nginx.sh || exit 1
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

#!/usr/bin/env bash
# The production profile puts Debian's nginx in front of the Rasa processes
# (`kepu run` writes its configuration and starts it; bot/run/nginx.py). Install it
# with apt when missing: `make test` (the production-profile tests drive it) and
# `make run` when KEPU_RASA_INSTANCES asks for more than one Rasa process. When
# that is impossible (no root, no apt, apt fails) this fails loudly rather than
# leave a start or a test run without it; KEPU_NO_NGINX=1 skips it (those tests
# then skip and say why; under CI=true they fail).
set -u
cd "$(dirname "$0")/.."
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && exit 0
if [ "${KEPU_NO_NGINX:-}" = 1 ]; then
    echo "[setup] KEPU_NO_NGINX=1: not installing nginx; the production-profile tests will skip" >&2
    exit 0
fi
scripts/apt-install.sh "the production profile's proxy in front of Rasa" nginx

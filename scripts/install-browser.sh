#!/usr/bin/env bash
# The browser tests drive Debian's chromium (never a downloaded browser) and
# need a CJK font to render Chinese. Install both with apt when missing. When
# that is impossible (no root, no apt, apt fails) this fails loudly: `make test`
# stops here rather than passing with the browser tests unrun. Set
# KEPU_NO_BROWSER=1 to run the rest of the suite on a machine without them
# (the browser tests then skip and say why; under CI=true they fail).
set -u
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "${KEPU_NO_BROWSER:-}" = 1 ]; then
    echo "[setup] KEPU_NO_BROWSER=1: not installing ${need[*]}; browser tests will skip" >&2
    exit 0
fi
if ! scripts/apt-install.sh "for the browser tests" "${need[@]}"; then
    echo "[setup] or run without the browser tests: KEPU_NO_BROWSER=1 make test" >&2
    exit 1
fi

#!/usr/bin/env bash
# The browser tests drive Debian's chromium (never a downloaded browser) and
# need a CJK font to render Chinese. Install both with apt when missing and we
# are allowed to (root). Otherwise say so; the browser tests then skip and
# name the reason.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing ${need[*]} from apt for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || \
        echo "[setup] apt-get install ${need[*]} failed; browser tests will skip" >&2
else
    echo "[setup] ${need[*]} missing and not root: browser tests will skip" >&2
fi
exit 0

#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter that really runs.
#
# Rasa 3.6 needs Python <= 3.10. The `python3.10` pyenv shim on PATH can exist
# and still fail (pyenv's global version is 3.11), so every candidate is run
# and must report 3.10 before it is accepted. Order: $KEPU_PYTHON, pyenv's
# versions folder, `pyenv which`, then whatever `python3.10` is on PATH.
set -u

works() {
    [ -n "$1" ] && "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

candidates=()
[ -n "${KEPU_PYTHON:-}" ] && candidates+=("$KEPU_PYTHON")
root="${PYENV_ROOT:-$HOME/.pyenv}"
for p in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do
    candidates+=("$p")
done
if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -rV); do
        p=$(PYENV_VERSION="$v" pyenv which python3.10 2>/dev/null) && candidates+=("$p")
    done
fi
p=$(command -v python3.10 2>/dev/null) && candidates+=("$p")
for p in /usr/local/bin/python3.10 /usr/bin/python3.10; do candidates+=("$p"); done

for p in "${candidates[@]}"; do
    if works "$p"; then
        echo "$p"
        exit 0
    fi
done
echo "No working Python 3.10 found (Rasa 3.6 needs 3.10). Tried: ${candidates[*]:-nothing}." >&2
echo "Install one with pyenv, or set KEPU_PYTHON=/path/to/python3.10." >&2
exit 1

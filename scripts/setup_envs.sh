#!/usr/bin/env bash
# Creates or updates both environments from the lock files; does nothing when they match.
#   .venv       Python 3.11: crm_backend, bot gateway, tests and checks
#   .venv-rasa  Python 3.10: rasa 3.6.21, rasa-sdk, the action server, Chinese NLU
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_env() {  # dir python-version lockfile
  local dir=$1 version=$2 lock=$3 py stamp want
  want=$(sha256sum "$lock" | cut -d' ' -f1)
  stamp="$dir/.lock-sha256"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dir/bin/python" ]; then
    return 0
  fi
  if [ ! -x "$dir/bin/python" ]; then
    py=$(scripts/find_python.sh "$version")
    echo "==> creating $dir with $py"
    "$py" -m venv "$dir"
  fi
  echo "==> installing $lock into $dir (first time takes a few minutes)"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$lock"
  echo "$want" > "$stamp"
}

ensure_env .venv 3.11 requirements/crm.lock.txt
ensure_env .venv-rasa 3.10 requirements/rasa.lock.txt

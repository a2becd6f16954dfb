#!/usr/bin/env bash
# Prints the path of a working python interpreter of version $1 (e.g. 3.10), or explains
# what to install. Looks on PATH, then in pyenv's versions, then in common prefixes.
set -u
want="$1"
works() { [ -x "$1" ] && "$1" -c "import sys, venv; assert sys.version_info[:2] == tuple(map(int, '$want'.split('.')))" >/dev/null 2>&1; }
candidates=()
command -v "python$want" >/dev/null 2>&1 && candidates+=("$(command -v "python$want")")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for d in $(ls -d "$root"/versions/"$want"* 2>/dev/null | sort -rV); do candidates+=("$d/bin/python$want"); done
fi
for d in "$HOME"/.pyenv/versions/"$want"*; do candidates+=("$d/bin/python$want"); done
candidates+=("/usr/local/bin/python$want" "/usr/bin/python$want")
for c in "${candidates[@]}"; do
  if works "$c"; then "$c" -c 'import sys; print(sys.executable)'; exit 0; fi
done
cat >&2 <<MSG
error: Python $want was not found (looked on PATH, in pyenv and in /usr).
Install it, for example:  pyenv install $want   or   apt-get install python$want python$want-venv
MSG
exit 1

#!/usr/bin/env bash
# Regenerates the single initial migration from the models (allowed until the first release).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f crm_backend/migrations/versions/0001_*.py
.venv/bin/alembic -x url="sqlite:///$tmp/regen.sqlite3" revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
.venv/bin/ruff format -q crm_backend/migrations/versions/
.venv/bin/ruff check -q --fix crm_backend/migrations/versions/ || true
rm -rf "$tmp"
ls crm_backend/migrations/versions/

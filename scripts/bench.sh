#!/usr/bin/env bash
# Measures the plugin against a bare Go pager and the official Python SDK on the same simulated data, and
# writes the results table into docs/benchmarks.md. Installs what it needs first. Arguments go to
# cmd/cbcbench: e.g. -runs 3, -records 10000, -latency 50ms, or -doc "" to leave the page alone.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
echo "Building the frontend, for the size of module.js"
npm run build >/dev/null

go run ./cmd/cbcbench -doc docs/benchmarks.md "$@"

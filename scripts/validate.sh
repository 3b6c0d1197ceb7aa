#!/usr/bin/env bash
# Runs the Grafana plugin validator (plugincheck2) on a plugin archive; it exits non-zero on any error-level
# finding. The validator comes from the Go module proxy; where the proxy does not serve it, this says so and
# leaves the check to a machine that has it (or to: docker run grafana/plugin-validator-cli ARCHIVE).
set -euo pipefail
archive=${1:?usage: validate.sh ARCHIVE.zip}
version=${PLUGIN_VALIDATOR_VERSION:-v0.33.1}
gobin=$(go env GOPATH)/bin

if ! command -v plugincheck2 >/dev/null && [ ! -x "$gobin/plugincheck2" ]; then
  if ! log=$(go install "github.com/grafana/plugin-validator/pkg/cmd/plugincheck2@$version" 2>&1); then
    echo "The plugin validator could not be installed from the Go module proxy:"
    echo "$log" | tail -n 2
    echo "SKIPPED: plugin validator (run it where it installs, or with docker run grafana/plugin-validator-cli $archive)"
    [ "${REQUIRE_VALIDATOR:-0}" = 1 ] && exit 1
    exit 0
  fi
fi
PATH="$gobin:$PATH" plugincheck2 -sourceCodeUri "file://$(pwd)" "$archive"

#!/usr/bin/env bash
# Runs Grafana's plugin validator (plugincheck2) on a plugin archive, with its gosec pass, and fails on any
# error-level finding. The validator comes from the Go module proxy; where the proxy refuses it, it is built
# from the validator's source kept beside the project (../shared/tools/build-plugincheck2), and where neither
# is there, this says so and skips (REQUIRE_VALIDATOR=1 makes that a failure).
set -euo pipefail
archive=${1:?usage: validate.sh ARCHIVE.zip}
version=${PLUGIN_VALIDATOR_VERSION:-v0.45.6}
gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"

# gosec makes the validator's source-code security pass run.
command -v gosec >/dev/null || go install github.com/securego/gosec/v2/cmd/gosec@v2.30.0

config=""
if command -v plugincheck2 >/dev/null; then
  validator=plugincheck2
elif log=$(go install "github.com/grafana/plugin-validator/pkg/cmd/plugincheck2@$version" 2>&1); then
  validator="$gobin/plugincheck2"
elif [ -x ../shared/tools/build-plugincheck2 ] || [ -f ../shared/tools/build-plugincheck2 ]; then
  echo "The Go module proxy refused the validator ($(echo "$log" | tail -n 1)); building it from source."
  validator=$(bash ../shared/tools/build-plugincheck2)
  config="$(dirname "$validator")/config/default.yaml"
else
  echo "The plugin validator could not be installed from the Go module proxy:"
  echo "$log" | tail -n 2
  echo "SKIPPED: plugin validator (run it where it installs, or with docker run grafana/plugin-validator-cli $archive)"
  [ "${REQUIRE_VALIDATOR:-0}" = 1 ] && exit 1
  exit 0
fi

args=(-sourceCodeUri "file://$(pwd)")
[ -n "$config" ] && args+=(-config "$config")
"$validator" "${args[@]}" "$archive"

#!/usr/bin/env bash
# Installs everything the project needs (npm, Go, Maven and pip packages, Debian's redis-server and chromium) and runs every
# check: the Lucene reference's build, Go vet, golangci-lint and tests (with -race, several Grafana replicas against a real
# Redis and the query language against Apache Lucene among them), the Python SDK
# conformance tests against the simulator, brief fuzzing, Jest, typecheck, lint, the editors in headless Chromium, the frontend
# and backend builds, one small benchmark run, a 2-minute soak, the plugin archive and the Grafana plugin validator. Exits non-zero as soon as anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
# Debian's packages, for what the machine lacks.
apt_install() {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "Missing: sudo apt-get install $*" >&2
    exit 1
  fi
}

step "Frontend dependencies (npm ci)"
npm ci --no-audit --no-fund

step "Go modules"
go mod download

step "Python packages for the SDK conformance tests"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt

step "The Lucene reference for the query language (Java 17, Maven, Apache Lucene 9.12)"
command -v mvn >/dev/null && command -v javac >/dev/null || apt_install openjdk-17-jdk-headless maven
(cd tests/lucene && mvn -q -B package)

step "Go vet and golangci-lint"
go vet ./pkg/... ./cmd/...
gobin=$(go env GOPATH)/bin
[ -x "$gobin/golangci-lint" ] || go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
"$gobin/golangci-lint" run ./pkg/... ./cmd/...

step "Debian packages: redis-server, for the tests of several Grafana replicas"
command -v redis-server >/dev/null || apt_install redis-server

step "Go tests (race detector)"
# The tests start redis-server themselves on free ports, run the Lucene reference, and read the GeoIP City database
# npm ci installed (the one the compose stack ships); here they must not skip or stand in for any of them.
REDIS_REQUIRED=1 LUCENE_REQUIRED=1 GEOIP_REQUIRED=1 go test -race -count=1 ./pkg/... ./cmd/...

step "Fuzzing every parser, briefly: query text, query model, settings, CBC bodies, resource routes"
# A number of runs, not a duration: with -fuzztime as a duration, Go's fuzz coordinator can report its own
# deadline as a failure ("context deadline exceeded") when the time runs out, which a busy machine makes likely.
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$3" -fuzzminimizetime 2s "$2"; }
fuzz FuzzParse ./pkg/cbcsim/lucene 200000x
fuzz FuzzRegexp ./pkg/cbcsim/lucene 100000x
fuzz FuzzQuery ./pkg/cbcsim 20000x
fuzz FuzzParseQuery ./pkg/models 40000x
fuzz FuzzSettings ./pkg/models 40000x
fuzz FuzzDecodeEnvelope ./pkg/cbc 40000x
fuzz FuzzResources ./pkg/plugin 20000x

step "Frontend typecheck, lint and unit tests"
npm run typecheck
npm run lint
npm run test:ci

step "Browser check of the editors (headless Chromium)"
command -v chromium >/dev/null || apt_install chromium
CHROMIUM=$(command -v chromium) npm run test:browser

step "Frontend production build"
npm run build

step "Backend build for every platform (mage)"
go tool mage -v buildAll

step "Official Python SDK against the simulator"
go build -o .cache/cbcsim ./cmd/cbcsim
CBCSIM=.cache/cbcsim .venv/bin/python -m pytest -q -p no:cacheprovider tests/sdk

step "Benchmark, once, small (the full run is scripts/bench.sh)"
go run ./cmd/cbcbench -records 2000,12000 -runs 1 -latency 0s

step "Soak, 2 minutes (the full run is go run ./cmd/cbcsoak): fails on a lost or duplicated live event, an error of our own, a 429 we caused"
go run ./cmd/cbcsoak -duration 2m

step "Plugin archive"
version=$(node -p "require('./package.json').version")
archive=".cache/seed-cbcauditlogs-datasource-${version}.zip"
.venv/bin/python scripts/package.py dist "$archive"

step "Grafana plugin validator"
bash scripts/validate.sh "$archive"

printf '\nAll checks passed.\n'

#!/usr/bin/env bash
# Prints the path of a temporal CLI (dev server + Web UI), building it with Go when none is found.
# Lookup: TEMPORAL_CLI_PATH, then PATH, then the cache ${XDG_CACHE_HOME:-~/.cache}/ecommerce-pipeline/bin.
# `npm run demo` (src/devtools/temporal-cli.ts) runs this same script, so both share one build lock.
# Nothing is downloaded but Go modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/build-once.sh
source "$here/lib/build-once.sh"

version="1.5.1"
module="github.com/temporalio/cli/cmd/temporal"
cached="$tool_bin_dir/temporal"

die() { echo "ensure-temporal-cli: $*" >&2; exit 1; }

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  [[ -x "$TEMPORAL_CLI_PATH" && -f "$TEMPORAL_CLI_PATH" ]] \
    || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"
  echo "$TEMPORAL_CLI_PATH"
  exit 0
fi
if found="$(command -v temporal)"; then
  echo "$found"
  exit 0
fi
if [[ -x "$cached" ]]; then
  echo "$cached"
  exit 0
fi

command -v go >/dev/null \
  || die "no temporal CLI found and Go is not on PATH to build it (install Go 1.21 or newer: go fetches the toolchain the CLI needs through the module proxy; or set TEMPORAL_CLI_PATH)"

# The CLI's SQLite is pure Go: without cgo no C compiler is needed.
build_once "temporal CLI $version ($(go version | cut -d' ' -f3))" "$cached" .temporal-build.lock \
  env GOBIN="$tool_bin_dir" CGO_ENABLED=0 go install \
  "-ldflags=-X github.com/temporalio/cli/temporalcli.Version=$version" "$module@v$version" \
  || die "go install $module@v$version failed"
echo "$cached"

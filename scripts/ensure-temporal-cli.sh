#!/usr/bin/env bash
# Prints the path of a temporal CLI (dev server + Web UI), building it with Go when none is found.
# Same lookup as src/devtools/temporal-cli.ts: TEMPORAL_CLI_PATH, then PATH, then the cache
# ${XDG_CACHE_HOME:-~/.cache}/ecommerce-pipeline/bin/temporal. Nothing is downloaded but Go modules.
set -euo pipefail

version="1.5.1"
module="github.com/temporalio/cli/cmd/temporal"
bin_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ecommerce-pipeline/bin"
cached="$bin_dir/temporal"

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
  || die "no temporal CLI found and Go is not installed to build it (install Go 1.21 or newer: go fetches the toolchain the CLI needs through the module proxy; or set TEMPORAL_CLI_PATH)"

mkdir -p "$bin_dir"
# One build at a time; whoever waited finds the binary ready.
exec 9>"$bin_dir/.temporal-build.lock"
flock 9
if [[ ! -x "$cached" ]]; then
  echo "ensure-temporal-cli: building temporal $version with $(go version | cut -d' ' -f3) into $bin_dir (a few minutes, once per machine)..." >&2
  started=$SECONDS
  # The CLI's SQLite is pure Go: without cgo no C compiler is needed.
  GOBIN="$bin_dir" CGO_ENABLED=0 go install \
    "-ldflags=-X github.com/temporalio/cli/temporalcli.Version=$version" "$module@v$version" >&2 \
    || die "go install $module@v$version failed (see go's output above)"
  echo "ensure-temporal-cli: built in $((SECONDS - started)) s" >&2
fi
echo "$cached"

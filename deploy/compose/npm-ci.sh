#!/bin/sh
# `npm ci` with one tolerated disagreement: the lock file was written where the registry serves only
# linux-x64 builds of the native packages (duckdb, swc, rollup), so it lacks the other platforms'
# optional binaries and npm ci rejects it as "Missing: name@ from lock file". Only in that case are
# the locked versions installed with `npm install --no-save`, which leaves the lock as it is; any
# other disagreement fails the build. Arguments are passed to npm (e.g. --omit=dev).
set -eu

log="$(mktemp)"
if npm ci --no-audit --no-fund "$@" >"$log" 2>&1; then
  cat "$log"
  rm -f "$log"
  exit 0
fi
cat "$log" >&2
problems="$(grep -E '^npm error (Missing|Invalid): ' "$log" || true)"
if grep -q 'are in sync' "$log" && [ -n "$problems" ] && ! printf '%s\n' "$problems" | grep -qv '@ from lock file$'; then
  echo "npm-ci: the lock lacks only other platforms' optional binaries; installing the locked versions with npm install --no-save" >&2
  rm -f "$log"
  exec npm install --no-audit --no-fund --no-save "$@"
fi
rm -f "$log"
exit 1

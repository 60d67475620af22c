# shellcheck shell=bash
# Sourced by the ensure-* scripts that build a tool from source into the project's tool cache
# (${XDG_CACHE_HOME:-~/.cache}/ecommerce-pipeline/bin). One build per tool and machine at a time:
# whoever comes second says so, waits for the first and finds the binary ready. The build's own
# output (hundreds of `go: downloading` lines) goes to a log beside the binary and is shown only
# when the build fails; the terminal gets one progress line.

tool_bin_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ecommerce-pipeline/bin"

# build_once LABEL TARGET LOCKNAME COMMAND...: runs COMMAND unless TARGET is already executable.
# COMMAND must leave an executable at TARGET.
build_once() {
  local label="$1" target="$2" lock="$3"
  shift 3
  mkdir -p "$tool_bin_dir"
  exec 9>"$tool_bin_dir/$lock"
  if ! flock -n 9; then
    echo "$label: another process is building it; waiting for that build to finish..." >&2
    flock 9
  fi
  if [[ -x "$target" ]]; then
    exec 9>&-
    return 0
  fi
  local log="$target.build.log" started=$SECONDS ticker=""
  if [[ -t 2 ]]; then
    # Progress in place on a terminal: one line that counts the seconds.
    (while sleep 5; do printf '\r%s: building (a few minutes, once per machine)... %ss ' "$label" "$((SECONDS - started))" >&2; done) &
    ticker=$!
  else
    echo "$label: building (a few minutes, once per machine; output in $log)..." >&2
  fi
  local status=0
  "$@" >"$log" 2>&1 || status=$?
  if [[ -n "$ticker" ]]; then
    kill "$ticker" 2>/dev/null || true
    wait "$ticker" 2>/dev/null || true
    printf '\r' >&2
  fi
  if ((status != 0)) || [[ ! -x "$target" ]]; then
    echo "$label: the build failed (exit $status); the last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exec 9>&-
    return 1
  fi
  echo "$label: built $target in $((SECONDS - started)) s" >&2
  exec 9>&-
}

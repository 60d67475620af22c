#!/usr/bin/env bash
# Makes sure the toolchains that build the test servers are present: a JDK with javac and Maven (the
# time-skipping test server) and Go (the temporal CLI dev server and the docker compose plugin, built
# only when no binary is found).
# Missing ones are installed from the registries this project may use: Debian's packages for the JDK
# and Maven, and the Go module proxy for Go (Debian's Go is too old to build the CLI).
#
# Prints the folders to put first on PATH, one per line (nothing when everything was already there).
set -euo pipefail

GO_VERSION="1.25.4"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ecommerce-pipeline/toolchains"

log() { echo "ensure-toolchains: $*" >&2; }
die() { log "$*"; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "$1 is missing and apt-get is not available to install it; install $1 yourself"
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || die "$1 is missing; run as root or install sudo so it can be installed"
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show "${@:2}" >/dev/null 2>&1 || $sudo apt-get update -qq
  log "installing ${*:2} from Debian's packages for $1..."
  $sudo apt-get install -y -qq --no-install-recommends "${@:2}" >/dev/null
}

java_home_bin="${JAVA_HOME:+$JAVA_HOME/bin/}"
if ! command -v "${java_home_bin}javac" >/dev/null; then
  apt_install "a JDK (javac)" default-jdk-headless
fi
if ! command -v mvn >/dev/null; then
  apt_install "Maven" maven
fi

# The temporal CLI and the compose plugin are built from source only when no binary is on hand (see
# ensure-temporal-cli.sh and deploy/compose/ensure-compose-plugin.sh).
tool_bin="${XDG_CACHE_HOME:-$HOME/.cache}/ecommerce-pipeline/bin"
have_temporal() {
  [[ -n "${TEMPORAL_CLI_PATH:-}" ]] || command -v temporal >/dev/null || [[ -x "$tool_bin/temporal" ]]
}
have_compose() {
  [[ -x "$tool_bin/docker-compose" ]] || { command -v docker >/dev/null && docker compose version >/dev/null 2>&1; }
}
if command -v go >/dev/null || { have_temporal && have_compose; }; then
  exit 0
fi

arch="$(uname -m)"
case "$arch" in
  x86_64) goarch=amd64 ;;
  aarch64 | arm64) goarch=arm64 ;;
  *) die "no Go toolchain for $arch; install Go 1.21 or newer yourself" ;;
esac
goroot="$cache/go$GO_VERSION"
if [[ ! -x "$goroot/bin/go" ]]; then
  command -v curl >/dev/null || die "Go is missing and curl is not available to fetch it"
  command -v unzip >/dev/null || apt_install "unzip" unzip
  proxy="$(printf '%s' "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1)"
  [[ "$proxy" == http* ]] || proxy="https://proxy.golang.org"
  url="$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$goarch.zip"
  log "fetching Go $GO_VERSION from the Go module proxy ($url)..."
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/go.tmp.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  curl -fsSL --retry 3 -o "$work/go.zip" "$url" || die "could not fetch $url"
  unzip -q "$work/go.zip" -d "$work/x"
  # The module zip holds golang.org/toolchain@v0.0.1-go<version>.linux-<arch>/{bin,src,pkg,...}.
  inner="$(find "$work/x" -mindepth 2 -maxdepth 2 -type d -name 'toolchain@*' | head -1)"
  [[ -n "$inner" && -f "$inner/bin/go" ]] || die "the Go toolchain zip from $url has no bin/go"
  chmod -R u+w "$inner"
  chmod +x "$inner/bin/"* "$inner/pkg/tool/"*/* 2>/dev/null || true
  rm -rf "$goroot"
  mv "$inner" "$goroot"
  log "Go $("$goroot/bin/go" version | cut -d' ' -f3) is in $goroot"
fi
echo "$goroot/bin"

#!/usr/bin/env bash
# Makes `docker compose` available to the docker client (only the client: no engine is needed to
# validate the compose file). Uses an installed plugin when there is one; otherwise builds Docker
# Compose from source with Go (Go modules only, nothing else is downloaded) into the project's tool
# cache and links it into ${DOCKER_CONFIG:-~/.docker}/cli-plugins. Prints the plugin's path.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../scripts/lib/build-once.sh
source "$root/scripts/lib/build-once.sh"

version="2.40.3"
module="github.com/docker/compose/v2"
cached="$tool_bin_dir/docker-compose"
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

die() { echo "ensure-compose-plugin: $*" >&2; exit 1; }

if ! command -v docker >/dev/null; then
  command -v apt-get >/dev/null || die "the docker client is not installed (install docker.io or docker-ce-cli)"
  [[ "$(id -u)" -eq 0 ]] || die "the docker client is not installed; as root this script installs it (apt-get install docker.io)"
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show docker.io >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=600 update -qq
  echo "ensure-compose-plugin: installing the docker client (docker.io) from Debian's packages..." >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io >/dev/null
fi
if docker compose version >/dev/null 2>&1; then
  docker compose version --short >&2
  exit 0
fi

command -v go >/dev/null || die "docker compose is missing and Go is not on PATH to build it (install the docker-compose-plugin package, or Go 1.24+)"

# Its go.mod has exclude directives, which `go install pkg@version` refuses: fetch the module
# through the module proxy, then build it as the main module.
build_compose() {
  local src
  src="$(GOFLAGS=-mod=mod go mod download -json "$module@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$src" ]] || { echo "go mod download $module@v$version gave no source folder" >&2; return 1; }
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$cached.tmp" \
    -ldflags "-s -w -X $module/internal.Version=v$version" ./cmd)
  mv "$cached.tmp" "$cached"
}
build_once "docker compose $version ($(go version | cut -d' ' -f3))" "$cached" .compose-build.lock build_compose \
  || die "building $module@v$version failed"
mkdir -p "$plugin_dir"
ln -sf "$cached" "$plugin_dir/docker-compose"
docker compose version >&2 || die "built $cached but \`docker compose version\` still fails"
echo "$plugin_dir/docker-compose"

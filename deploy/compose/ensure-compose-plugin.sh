#!/usr/bin/env bash
# Makes `docker compose` available to the docker client (only the client: no engine is needed to
# validate the compose file). Uses an installed plugin when there is one; otherwise builds Docker
# Compose from source with Go (Go modules only, nothing else is downloaded) into the project's tool
# cache and links it into ~/.docker/cli-plugins. Prints the plugin's path.
set -euo pipefail

version="2.40.3"
module="github.com/docker/compose/v2"
bin_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ecommerce-pipeline/bin"
cached="$bin_dir/docker-compose"
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

die() { echo "ensure-compose-plugin: $*" >&2; exit 1; }

command -v docker >/dev/null || die "the docker client is not installed (apt-get install docker.io, or docker-ce-cli)"
if docker compose version >/dev/null 2>&1; then
  docker compose version --short >&2
  exit 0
fi

command -v go >/dev/null || die "docker compose is missing and Go is not installed to build it (install the docker-compose-plugin package, or Go 1.24+)"
mkdir -p "$bin_dir" "$plugin_dir"
exec 9>"$bin_dir/.compose-build.lock"
flock 9
if [[ ! -x "$cached" ]]; then
  echo "ensure-compose-plugin: building Docker Compose $version with $(go version | cut -d' ' -f3) (a few minutes, once per machine)..." >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # Its go.mod has exclude directives, which `go install pkg@version` refuses: fetch the module
  # through the module proxy, then build it as the main module.
  src="$(GOFLAGS=-mod=mod go mod download -json "$module@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$src" ]] || die "go mod download $module@v$version gave no source folder"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$work/docker-compose" \
    -ldflags "-s -w -X $module/internal.Version=v$version" ./cmd)
  mv "$work/docker-compose" "$cached"
fi
ln -sf "$cached" "$plugin_dir/docker-compose"
docker compose version >&2 || die "built $cached but \`docker compose version\` still fails"
echo "$plugin_dir/docker-compose"

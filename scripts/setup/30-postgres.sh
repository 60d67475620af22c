#!/usr/bin/env bash
# PostgreSQL server binaries for test/redshift (the warehouse merge SQL runs on a throwaway cluster the
# tests start themselves; no service is enabled here). Idempotent: does nothing when initdb is present,
# and refreshes the apt index only when the package cannot be found without it.
set -euo pipefail

have_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

if have_server; then
  echo "30-postgres: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1) (already installed)"
  exit 0
fi

command -v apt-get >/dev/null || { echo "30-postgres: apt-get not found; install a PostgreSQL server and set PG_BIN to its bin folder" >&2; exit 1; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "30-postgres: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show postgresql >/dev/null 2>&1; then
  $sudo apt-get update -qq
fi
# the distribution's default version
$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have_server || { echo "30-postgres: postgresql installed but no initdb under /usr/lib/postgresql" >&2; exit 1; }
echo "30-postgres: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

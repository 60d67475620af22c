#!/usr/bin/env bash
# Trino 476 for the tests that run the generated Athena SQL (Athena engine v3 is Trino) on a real engine:
# test/support/trino.ts starts a throwaway server from this tree. Idempotent: a second run only compares
# a fingerprint. Prints the Trino home on stdout; with CI_ENV_FILE set, appends TRINO_HOME and
# TRINO_JAVA_HOME to it.
#
#   ${XDG_CACHE_HOME:-~/.cache}/ecommerce-pipeline/trino-476/
#     bin/launcher, bin/linux-<arch>/   the launcher (a static binary; `launcher run` execs java)
#     lib/*.jar                         the server's class path
#     plugin/memory/                    the only connector kept (tests load their tables into memory)
#
# The server tarball (821 MB, io.trino:trino-server:476:tar.gz) comes from Maven Central through Maven;
# it holds hard links, so it is extracted whole and trimmed after. Neither the tarball nor Maven's copy
# of it is kept. Trino 476 needs Java 24 or newer: the Temurin 25 JDK below.
set -euo pipefail

version=476
java_home="/usr/lib/jvm/temurin-25-jdk-amd64"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ecommerce-pipeline"
dest="$cache/trino-$version"

die() { echo "50-trino: $*" >&2; exit 1; }

[[ -x "$java_home/bin/java" ]] || die "Java 25 not found at $java_home: Trino $version needs that JDK (Eclipse Temurin 25) installed there"

fingerprint="trino-server $version $(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"

publish() {
  if [[ -n "${CI_ENV_FILE:-}" ]]; then
    printf 'TRINO_HOME=%s\nTRINO_JAVA_HOME=%s\n' "$dest" "$java_home" >>"$CI_ENV_FILE"
  fi
  echo "$dest"
}

mkdir -p "$cache"
exec 9>"$cache/trino-$version.lock"
if ! flock -n 9; then
  echo "50-trino: another process is preparing $dest; waiting for it..." >&2
  flock 9
fi

if [[ -x "$dest/bin/launcher" && -f "$dest/.fingerprint" && "$(cat "$dest/.fingerprint")" == "$fingerprint" ]]; then
  publish
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found: Maven fetches the Trino server from Maven Central (apt-get install maven)"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  ppc64le) arch=ppc64le ;;
  *) die "no Trino launcher for $(uname -m)" ;;
esac

started=$SECONDS
echo "50-trino: fetching io.trino:trino-server:$version:tar.gz (821 MB) with Maven and unpacking it into $dest ..." >&2
work="$(mktemp -d "$cache/trino-$version.tmp.XXXXXX")"
# Maven keeps what it fetches in its local repository: drop the tarball from there after, unless it was
# there before this run.
m2_dir="$HOME/.m2/repository/io/trino/trino-server/$version"
m2_had=false
[[ -e "$m2_dir" ]] && m2_had=true
drop_m2_copy() {
  if [[ "$m2_had" == false ]]; then
    rm -rf "$m2_dir"
    rmdir "$(dirname "$m2_dir")" 2>/dev/null || true
  fi
}
cleanup() {
  rm -rf "$work"
  drop_m2_copy
}
trap cleanup EXIT

# Maven's output is shown only when it fails (even -q leaves colour codes behind).
if ! mvn -q -B dependency:copy -Dartifact="io.trino:trino-server:$version:tar.gz" \
  -DoutputDirectory="$work" >"$work/mvn.log" 2>&1; then
  cat "$work/mvn.log" >&2
  die "Maven could not fetch io.trino:trino-server:$version:tar.gz (its output is above)"
fi
tarball="$work/trino-server-$version.tar.gz"
[[ -f "$tarball" ]] || die "Maven reported success but left no $tarball"
tar -xzf "$tarball" -C "$work" || die "unpacking $tarball failed"
rm -f "$tarball" "$work/mvn.log"
drop_m2_copy

tree="$work/trino-server-$version"
[[ -x "$tree/bin/launcher" && -d "$tree/lib" && -d "$tree/plugin/memory" ]] \
  || die "the tarball has no bin/launcher, lib/ or plugin/memory/ under trino-server-$version/"
# Only the memory connector; no secrets plugins (etc/ never references one); only this machine's launcher.
find "$tree/plugin" -mindepth 1 -maxdepth 1 ! -name memory -exec rm -rf {} +
rm -rf "$tree/secrets-plugin"
find "$tree/bin" -mindepth 1 -maxdepth 1 -type d ! -name "linux-$arch" -exec rm -rf {} +
[[ -x "$tree/bin/linux-$arch/launcher" ]] || die "the tarball has no launcher for linux-$arch"
echo "$fingerprint" >"$tree/.fingerprint"
chmod 755 "$tree"

# Two renames: a test starting a server meanwhile finds the old tree or the new one, hardly ever neither.
old="$cache/trino-$version.old.$$"
[[ -e "$dest" ]] && mv "$dest" "$old"
mv "$tree" "$dest"
rm -rf "$old"

echo "50-trino: ready in $((SECONDS - started)) s ($(du -sh "$dest" | cut -f1))" >&2
publish

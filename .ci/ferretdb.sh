#!/usr/bin/env bash
# FerretDB as the tests' MongoDB wire server, built from the Go module proxy.
#
#   .ci/ferretdb.sh build   build the binary (reused once built)
#   .ci/ferretdb.sh start   build if needed and run it on 127.0.0.1:27017 in
#                           the background, with its SQLite handler in a
#                           temporary directory; does nothing when something
#                           already answers there (a real mongod, or an
#                           earlier start)
#   .ci/ferretdb.sh path    print the binary's path
#
# Debian does not package mongod. FerretDB is a MongoDB wire server written
# in Go, but `go install` of it panics at start: its module lacks the
# generated build/version/version.txt. So the module is copied to a build
# folder, the file written, and the binary built there. Everything lives in
# the user's cache (FERRETDB_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/
# musicadmin/ferretdb-VERSION), never in the repository.
set -euo pipefail

VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB
ADDR=127.0.0.1
PORT=27017
CACHE=${FERRETDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/musicadmin/ferretdb-$VERSION}
BIN=$CACHE/bin/ferretdb

log() { echo "ferretdb: $*" >&2; }

# answers reports whether something accepts connections on ADDR:PORT.
answers() { (exec 3<>"/dev/tcp/$ADDR/$PORT") 2>/dev/null; }

build() {
  if [ -x "$BIN" ]; then
    return 0
  fi
  local start=$SECONDS
  mkdir -p "$CACHE"
  # Outside any module, so that the download cannot touch a go.mod.
  local dir
  dir=$(cd "$CACHE" && go mod download -json "$MODULE@$VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    log "go mod download $MODULE@$VERSION gave no directory"
    return 1
  fi
  # The module cache is read-only: build in a writable copy.
  local src=$CACHE/src
  rm -rf "$src" "$src.tmp"
  cp -R "$dir" "$src.tmp"
  chmod -R u+w "$src.tmp"
  mv "$src.tmp" "$src"
  echo "$VERSION" >"$src/build/version/version.txt"
  mkdir -p "$(dirname "$BIN")"
  # Its go.mod names an older toolchain: build with the one at hand rather
  # than download another. -buildvcs=false: the copy is no git checkout.
  (cd "$src" && GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -buildvcs=false" go build -trimpath -o "$BIN.tmp" ./cmd/ferretdb)
  mv "$BIN.tmp" "$BIN"
  log "built $VERSION in $((SECONDS - start)) s: $BIN"
}

start() {
  if answers; then
    log "something already answers on $ADDR:$PORT: not starting another"
    return 0
  fi
  build
  local data
  data=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb.XXXXXX")
  # No TLS (no --listen-tls), no authentication (v1 has none unless asked),
  # no telemetry, no debug HTTP listener (its default port may be taken).
  setsid "$BIN" \
    --listen-addr="$ADDR:$PORT" \
    --handler=sqlite \
    --sqlite-url="file:$data/" \
    --state-dir="$data" \
    --telemetry=disable \
    --debug-addr=- \
    --log-level=warn \
    >"$data/ferretdb.log" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 100); do
    if answers; then
      log "started (pid $pid) on $ADDR:$PORT, data and log in $data"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  log "did not start; its log:"
  cat "$data/ferretdb.log" >&2
  return 1
}

case "${1:-}" in
build) build ;;
start) start ;;
path) echo "$BIN" ;;
*)
  echo "usage: $0 build|start|path" >&2
  exit 2
  ;;
esac

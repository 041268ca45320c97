#!/usr/bin/env bash
# axe-core, the accessibility checker the browser tests inject into pages
# (internal/e2e/a11y_test.go), fetched from the npm registry.
#
#   .ci/axe.sh fetch   download it (reused once fetched)
#   .ci/axe.sh path    print the path of axe.min.js
#
# The file lives in the user's cache (AXE_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/musicadmin/axe-core-VERSION), never in the
# repository. The test looks there by itself when APP_TEST_AXE_JS is unset,
# so that fetching once is enough for `make test`.
set -euo pipefail

VERSION=4.14.1
CACHE=${AXE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/musicadmin/axe-core-$VERSION}
JS=$CACHE/axe.min.js

log() { echo "axe: $*" >&2; }

fetch() {
  if [ -s "$JS" ]; then
    return 0
  fi
  mkdir -p "$CACHE"
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/axe.XXXXXX")
  # npm pack checks the tarball against the registry's integrity hash; no
  # package.json, no node_modules, no install scripts.
  (cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null)
  tar -xzf "$tmp/axe-core-$VERSION.tgz" -C "$tmp" package/axe.min.js package/LICENSE
  mv "$tmp/package/LICENSE" "$CACHE/LICENSE"
  mv "$tmp/package/axe.min.js" "$JS"
  rm -rf "$tmp"
  log "fetched axe-core $VERSION: $JS"
}

case "${1:-}" in
fetch) fetch ;;
path) echo "$JS" ;;
*)
  echo "usage: $0 fetch|path" >&2
  exit 2
  ;;
esac

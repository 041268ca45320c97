#!/usr/bin/env bash
# Swagger UI, which the API docs page (/api/docs/) runs, vendored from the
# npm package swagger-ui-dist into web/static/swagger-ui/, where web's embed
# puts it in the binary.
#
#   scripts/fetch-swagger-ui.sh VERSION     e.g. scripts/fetch-swagger-ui.sh 5.36.0
#
# It packs the release with npm (no package.json, no node_modules, no
# install scripts), checks the tarball against the dist.integrity the
# registry reports for that version, and replaces the folder with the
# bundle, its stylesheet, the licence files and a VERSION file. Source maps,
# the standalone preset and the demo page are left out: the page needs none
# of them.
set -euo pipefail

FILES=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)

log() { echo "swagger-ui: $*" >&2; }

if [ $# -ne 1 ] || ! [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: $0 VERSION   (e.g. 5.36.0; see: npm view swagger-ui-dist version)" >&2
  exit 2
fi
VERSION=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=$ROOT/web/static/swagger-ui

tmp=$(mktemp -d "${TMPDIR:-/tmp}/swagger-ui.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

want=$(npm view "swagger-ui-dist@$VERSION" dist.integrity)
if ! [[ $want =~ ^sha512- ]]; then
  log "no sha512 integrity for swagger-ui-dist@$VERSION: '$want'"
  exit 1
fi
tgz=$(cd "$tmp" && npm pack --silent "swagger-ui-dist@$VERSION")
got=sha512-$(node -e 'const c = require("crypto"), fs = require("fs");
process.stdout.write(c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tmp/$tgz")
if [ "$got" != "$want" ]; then
  log "integrity mismatch for $tgz: registry says $want, tarball is $got"
  exit 1
fi

members=()
for f in "${FILES[@]}"; do members+=("package/$f"); done
tar -xzf "$tmp/$tgz" -C "$tmp" "${members[@]}"

rm -rf "$DEST"
mkdir -p "$DEST"
for f in "${FILES[@]}"; do cp "$tmp/package/$f" "$DEST/$f"; done
echo "$VERSION" >"$DEST/VERSION"
log "vendored swagger-ui-dist $VERSION ($want) into web/static/swagger-ui/"

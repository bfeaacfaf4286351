#!/usr/bin/env bash
# Check goreleaser.yaml and build a snapshot release (archive, checksums,
# .deb and .rpm) into dist/, with goreleaser v2.15.1 run through `go run`
# (the first run downloads and compiles it: a few minutes). Then list the
# .deb's contents. CI runs `--check-only` (goreleaser check) and skips the
# slow build unless FAAS_RELEASE_SNAPSHOT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
GORELEASER=(go run github.com/goreleaser/goreleaser/v2@v2.15.1)
if command -v goreleaser >/dev/null && goreleaser --version 2>/dev/null | grep -q 'v2.15.1'; then
  GORELEASER=(goreleaser)
fi
"${GORELEASER[@]}" check
if [ "${1:-}" = "--check-only" ]; then
  exit 0
fi
"${GORELEASER[@]}" release --snapshot --clean --skip=publish
deb=$(ls dist/*.deb | head -1)
echo "contents of $deb:"
dpkg-deb --contents "$deb"

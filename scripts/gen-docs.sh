#!/usr/bin/env bash
# Regenerate completions/, docs/man/ and docs/cli/ from the command tree,
# byte-stably (a fixed SOURCE_DATE_EPOCH unless one is given).
# With --check, fail if the committed copies differ from the generated ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1793491200}" # 2026-11-01
go run ./cmd/gen-docs -root .
if [ "${1:-}" = "--check" ]; then
  if ! git diff --exit-code --stat -- completions docs/man docs/cli || [ -n "$(git status --porcelain -- completions docs/man docs/cli)" ]; then
    echo "generated docs or completions are stale: run scripts/gen-docs.sh and commit" >&2
    git status --porcelain -- completions docs/man docs/cli >&2
    exit 1
  fi
fi

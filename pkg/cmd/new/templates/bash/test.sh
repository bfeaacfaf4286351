#!/usr/bin/env bash
# Tests of handler.sh that need no faas: bash test.sh
set -uo pipefail
cd "$(dirname "$0")"

fails=0
check() { # check NAME PAYLOAD WANT
  local got
  got=$(printf '%s' "$2" | bash handler.sh 2>/dev/null)
  if [[ $got == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: got $got, want $3"
    fails=$((fails + 1))
  fi
}

check "the sample event" "$(cat event.json)" '{"message": "Hello, Ada!"}'
check "no name" '{}' '{"message": "Hello, world!"}'
exit $((fails > 0))

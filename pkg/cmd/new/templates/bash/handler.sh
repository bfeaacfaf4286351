#!/usr/bin/env bash
# A faas function as a script: the payload arrives on stdin, stdout is the
# result, stderr goes to the job's logs (`faas logs NAME`), and a non-zero
# exit is a failure. Plain bash: nothing else is installed where it runs.
set -euo pipefail

payload=$(cat)
name=world
if [[ $payload =~ \"name\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]]; then
  name=${BASH_REMATCH[1]}
fi
echo "greeting $name" >&2
printf '{"message": "Hello, %s!"}\n' "$name"

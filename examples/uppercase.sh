#!/usr/bin/env bash
# A bash script: stdin in, stdout out, a non-zero exit fails the job.
set -euo pipefail
echo "job $FAAS_JOB_ID of $FAAS_FUNCTION" >&2
tr '[:lower:]' '[:upper:]'

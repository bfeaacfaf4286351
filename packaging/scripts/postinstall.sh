#!/bin/sh
# faas package: let systemd see the units. They are not enabled or
# started: an admin first makes tokens (docs/operations.md), then
# `systemctl enable --now faas-serve`. An upgrade restarts what runs.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  for unit in faas-serve.service faas-worker.service; do
    if systemctl is-active --quiet "$unit"; then
      systemctl restart "$unit" || true
    fi
  done
fi
exit 0

#!/bin/sh
# faas package: stop the services before their binary goes (a removal, not
# an upgrade: deb passes "remove", rpm 0). /var/lib/faas stays.
set -e
case "$1" in
  remove|0)
    if [ -d /run/systemd/system ]; then
      systemctl disable --now faas-serve.service faas-worker.service >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0

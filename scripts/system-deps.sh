#!/usr/bin/env bash
# System packages the test suite needs beyond Python: Redis (Celery broker for the system
# test), Debian's docker-compose (validates the compose file without a Docker engine) and
# Chromium (renders the Data Docs, the weekly report and the Airflow UI pages in tests).
# PostgreSQL 15 comes with the machine. Installs only what is missing, only as root.
set -uo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
      || echo "warning: could not install ${need[*]}; the tests that need them will say so"
  else
    echo "warning: missing ${need[*]} and not root: the tests that need them will say so"
  fi
fi
exit 0

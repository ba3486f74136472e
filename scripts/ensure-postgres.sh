#!/usr/bin/env bash
# Start the machine's PostgreSQL cluster if it is installed and not answering.
set -eu
command -v pg_isready >/dev/null 2>&1 || { echo "postgres: not installed; the PostgreSQL tests will fail (SHOPBRIDGE_TEST_SKIP_POSTGRES=1 skips them)"; exit 0; }
pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
version=$(ls /etc/postgresql | head -n 1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done
echo "postgres: did not start" >&2
exit 1

#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1:5432: start it when it is installed but
# stopped; fail with a clear message when it is not installed at all.
set -euo pipefail
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "hiroba: PostgreSQL is not installed on this machine. Install it (apt-get install postgresql)" \
       "or point CI_DATABASE_URL at a server. / PostgreSQL がインストールされていません。" >&2
  exit 1
fi
if ! pg_ready; then
  echo "hiroba: starting the local PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  elif command -v service >/dev/null 2>&1; then
    service postgresql start || true
  fi
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
if ! pg_ready; then
  echo "hiroba: PostgreSQL is installed but did not start on 127.0.0.1:5432. / PostgreSQL を起動できませんでした。" >&2
  exit 1
fi
echo "hiroba: PostgreSQL is ready"

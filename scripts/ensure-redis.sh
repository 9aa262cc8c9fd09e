#!/usr/bin/env bash
# Make sure a local Redis answers on 127.0.0.1:6379 (the shared cache of issue 20: tests of the
# Redis page cache, the MFA replay guard across processes, the readers benchmark): start it when it
# is installed but stopped; fail with a clear message when it is not installed at all
# (scripts/system-packages.sh installs redis-server).
set -euo pipefail
port=${HIROBA_REDIS_PORT:-6379}
redis_ready() { redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; }
if redis_ready; then echo "hiroba: Redis is ready"; exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "hiroba: Redis is not installed on this machine. Install it (apt-get install redis-server)." \
       "/ Redis がインストールされていません。" >&2
  exit 1
fi
echo "hiroba: starting the local Redis"
if [[ $port == 6379 ]] && command -v service >/dev/null 2>&1 && [[ -x /etc/init.d/redis-server ]]; then
  service redis-server start >/dev/null 2>&1 || true
fi
if ! redis_ready; then
  # no init script (a container): run it ourselves, loopback only, nothing written to disk
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --save '' --appendonly no \
    --logfile "${TMPDIR:-/tmp}/hiroba-redis-$port.log" >/dev/null
fi
for _ in $(seq 1 30); do redis_ready && break; sleep 0.5; done
if ! redis_ready; then
  echo "hiroba: Redis is installed but did not start on 127.0.0.1:$port. / Redis を起動できませんでした。" >&2
  exit 1
fi
echo "hiroba: Redis is ready"

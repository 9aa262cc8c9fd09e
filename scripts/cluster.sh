#!/usr/bin/env bash
# The production topology on loopback, for tests and the benchmark (issue 20):
# nginx (deploy/nginx/hiroba.conf) → CLUSTER_APPS gunicorn app servers (deploy/gunicorn.conf.py),
# CLUSTER_TASK_WORKERS django-tasks workers and the audit chainer, all on one PostgreSQL.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/hiroba_cluster scripts/cluster.sh start
#   scripts/cluster.sh status      # each process, and /readyz through nginx; exit 1 if something is down
#   scripts/cluster.sh stop
#
# Settings (environment): CLUSTER_DIR (/tmp/hiroba-cluster: pids, logs, nginx files, the shared data
# dir), CLUSTER_PORT (nginx, 8080), CLUSTER_APP_PORT (first app server, 18001), CLUSTER_APPS (2),
# CLUSTER_WEB_WORKERS (gunicorn workers per app server, 1), CLUSTER_WEB_THREADS (4),
# CLUSTER_TASK_WORKERS (2), CLUSTER_SKIP_MIGRATE=1 (the database is already migrated).
# Everything else in the environment (DJANGO_SETTINGS_MODULE, PYTHONPATH, HIROBA_*) reaches every
# process, so a test can run the cluster with its own settings module.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${HIROBA_BIN:-$ROOT/.venv/bin}
DIR=${CLUSTER_DIR:-/tmp/hiroba-cluster}
PORT=${CLUSTER_PORT:-8080}
APP_PORT=${CLUSTER_APP_PORT:-18001}
APPS=${CLUSTER_APPS:-2}
TASK_WORKERS=${CLUSTER_TASK_WORKERS:-2}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

usage() { echo "usage: scripts/cluster.sh start|stop|status" >&2; exit 2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

load_env() {
  if [[ -f "$DIR/cluster.env" ]]; then
    set -a; source "$DIR/cluster.env"; set +a
  fi
}

render_nginx() {
  # deploy/nginx/hiroba.conf itself, with the lines marked "cluster:" pointed at this cluster.
  local servers="" i
  for ((i = 0; i < APPS; i++)); do
    servers+="    server 127.0.0.1:$((APP_PORT + i)) max_fails=1 fail_timeout=10s;\n"
  done
  mkdir -p "$DIR/nginx/tmp"
  awk -v servers="$servers" -v port="$PORT" -v static="$HIROBA_DATA_DIR/static/" -v dir="$DIR" '
    /# cluster: app servers/ { if (!done) { printf "%s", servers; done = 1 } next }
    /# cluster: listen/ { print "    listen 127.0.0.1:" port ";"; next }
    /# cluster: access log/ { print "    access_log " dir "/nginx/access.log hiroba_json;"; next }
    /# cluster: static/ { print "        alias " static ";"; next }
    /# cluster: operator network/ { next }
    /# cluster: proxy/ { sub(/\/etc\/nginx\/hiroba-proxy.conf/, dir "/nginx/hiroba-proxy.conf"); sub(/  # cluster: proxy/, ""); print; next }
    { print }
  ' "$ROOT/deploy/nginx/hiroba.conf" > "$DIR/nginx/hiroba.conf"
  cp "$ROOT/deploy/nginx/hiroba-proxy.conf" "$DIR/nginx/hiroba-proxy.conf"
  local user_line=""
  [[ $(id -u) -eq 0 ]] && user_line="user root;"
  cat > "$DIR/nginx/nginx.conf" <<EOF
$user_line
worker_processes 2;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path $DIR/nginx/tmp/body;
    proxy_temp_path $DIR/nginx/tmp/proxy;
    fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
    scgi_temp_path $DIR/nginx/tmp/scgi;
    sendfile on;
    keepalive_timeout 30;
    include $DIR/nginx/hiroba.conf;
}
EOF
}

start_bg() {  # name, command…: its own session (so stop can end it and its children), pid file, logs
  local name=$1; shift
  setsid "$@" >> "$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/pids/$name.pid"
}

wait_http() {  # url, seconds
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

start() {
  [[ -n "${DATABASE_URL:-}" ]] || { echo "cluster: set DATABASE_URL (PostgreSQL) / DATABASE_URL を設定してください" >&2; exit 1; }
  [[ -x "$NGINX" ]] || { echo "cluster: nginx is not installed (scripts/system-packages.sh installs nginx-light)" >&2; exit 1; }
  if alive "$DIR/pids/nginx.pid"; then echo "cluster: already running in $DIR" >&2; exit 1; fi
  mkdir -p "$DIR/pids" "$DIR/logs"
  export HIROBA_DATA_DIR=${CLUSTER_DATA_DIR:-$DIR/data}
  mkdir -p "$HIROBA_DATA_DIR"
  # One key for every app server (sessions, CSRF and signed receipts must verify on any of them).
  export HIROBA_SECRET_KEY=${HIROBA_SECRET_KEY:-cluster-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  export HIROBA_AUDIT_KEY=${HIROBA_AUDIT_KEY:-$HIROBA_SECRET_KEY}
  export HIROBA_DEBUG=${HIROBA_DEBUG:-0} HIROBA_HTTPS=${HIROBA_HTTPS:-0} HIROBA_PROXY_COUNT=1
  export HIROBA_ALLOWED_HOSTS=${HIROBA_ALLOWED_HOSTS:-127.0.0.1,localhost}
  export HIROBA_EMAIL_BACKEND=${HIROBA_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
  export HIROBA_LOG_FORMAT=${HIROBA_LOG_FORMAT:-json}
  export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
  {
    for var in DATABASE_URL HIROBA_DATA_DIR HIROBA_SECRET_KEY HIROBA_AUDIT_KEY HIROBA_DEBUG HIROBA_HTTPS \
               HIROBA_PROXY_COUNT HIROBA_ALLOWED_HOSTS HIROBA_EMAIL_BACKEND HIROBA_LOG_FORMAT PYTHONPATH; do
      printf '%s=%q\n' "$var" "${!var}"
    done
    [[ -n "${DJANGO_SETTINGS_MODULE:-}" ]] && printf 'DJANGO_SETTINGS_MODULE=%q\n' "$DJANGO_SETTINGS_MODULE"
    [[ -n "${HIROBA_CACHE_URL:-}" ]] && printf 'HIROBA_CACHE_URL=%q\n' "$HIROBA_CACHE_URL"
    printf 'CLUSTER_PORT=%q\nCLUSTER_APP_PORT=%q\nCLUSTER_APPS=%q\nCLUSTER_TASK_WORKERS=%q\n' \
      "$PORT" "$APP_PORT" "$APPS" "$TASK_WORKERS"
  } > "$DIR/cluster.env"
  chmod 600 "$DIR/cluster.env"

  if [[ "${CLUSTER_SKIP_MIGRATE:-0}" != 1 ]]; then
    "$BIN/hiroba" migrate --no-input -v 0
  fi
  "$BIN/hiroba" collectstatic --no-input -v 0

  local i
  for ((i = 0; i < APPS; i++)); do
    HIROBA_BIND=127.0.0.1:$((APP_PORT + i)) HIROBA_METRICS_DIR="$DIR/metrics/app$((i + 1))" HIROBA_WEB_WORKERS=${CLUSTER_WEB_WORKERS:-1} \
      HIROBA_WEB_THREADS=${CLUSTER_WEB_THREADS:-4} \
      start_bg "app$((i + 1))" "$BIN/gunicorn" -c "$ROOT/deploy/gunicorn.conf.py" hiroba.wsgi
  done
  for ((i = 1; i <= TASK_WORKERS; i++)); do
    "$BIN/hiroba" tasks requeue --worker-id "cluster-worker-$i" > /dev/null
    start_bg "worker$i" "$BIN/hiroba" db_worker --no-reload --no-startup-delay --interval 0.2 \
      --queue-name '*' --worker-id "cluster-worker-$i" -v 1
  done
  start_bg chainer "$BIN/hiroba" audit chain --follow

  for ((i = 0; i < APPS; i++)); do
    wait_http "http://127.0.0.1:$((APP_PORT + i))/healthz" 60 \
      || { echo "cluster: app server $((i + 1)) did not start:" >&2; tail -30 "$DIR/logs/app$((i + 1)).log" >&2; stop; exit 1; }
  done
  render_nginx
  "$NGINX" -t -q -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" 2> "$DIR/logs/nginx-test.log" \
    || { cat "$DIR/logs/nginx-test.log" >&2; stop; exit 1; }
  "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx"
  for _ in $(seq 1 50); do [[ -s "$DIR/nginx/nginx.pid" ]] && break; sleep 0.1; done
  cp "$DIR/nginx/nginx.pid" "$DIR/pids/nginx.pid"
  wait_http "http://127.0.0.1:$PORT/readyz" 30 \
    || { echo "cluster: nginx does not answer /readyz:" >&2; cat "$DIR/nginx/error.log" >&2; stop; exit 1; }
  echo "cluster: http://127.0.0.1:$PORT/ (nginx) → $APPS app servers from port $APP_PORT, $TASK_WORKERS workers, chainer; $DIR"
}

stop() {
  [[ -d "$DIR/pids" ]] || { echo "cluster: not running ($DIR)"; return 0; }
  local pidfile pid
  if alive "$DIR/pids/nginx.pid"; then "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -s quit 2>/dev/null || true; fi
  for pidfile in "$DIR"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    if [[ "$(basename "$pidfile")" == nginx.pid ]]; then
      kill "$pid" 2>/dev/null || true
    else
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for _ in $(seq 1 100); do
    local running=0
    for pidfile in "$DIR"/pids/*.pid; do
      [[ -f "$pidfile" ]] && alive "$pidfile" && running=1
    done
    ((running == 0)) && break
    sleep 0.2
  done
  for pidfile in "$DIR"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  echo "cluster: stopped"
}

status() {
  [[ -d "$DIR/pids" ]] || { echo "cluster: not running ($DIR)"; return 1; }
  load_env
  PORT=${CLUSTER_PORT:-$PORT}
  local pidfile bad=0
  for pidfile in "$DIR"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    if alive "$pidfile"; then
      echo "$(basename "$pidfile" .pid): running (pid $(cat "$pidfile"))"
    else
      echo "$(basename "$pidfile" .pid): DOWN"; bad=1
    fi
  done
  local body
  if body=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/readyz" 2>&1); then
    echo "readyz via nginx (127.0.0.1:$PORT): $body"
    [[ "$body" == *'"status": "ok"'* ]] || bad=1
  else
    echo "readyz via nginx (127.0.0.1:$PORT): no answer ($body)"; bad=1
  fi
  return $bad
}

case "${1:-}" in
  start) start ;;
  stop) load_env; stop ;;
  status) status ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# A wapiti3 scan of the demo served on loopback (issue 13.15); exits 1 when it finds anything above
# low. Only modules that talk to the target alone: never log4shell, ssrf, xxe, wapp, nikto, takeover
# or cms (they contact outside hosts).
#
#   scripts/wapiti-scan.sh                 # in CI (.ci/run) and by hand
#   WAPITI_MAX_SCAN_SECONDS=300 scripts/wapiti-scan.sh
#
# wapiti lives in its own virtualenv (WAPITI_VENV, default /tmp/hiroba-wapiti-venv), never in the
# project's .venv. The server runs production settings (HIROBA_DEBUG=0, gunicorn, whitenoise) on a
# fresh SQLite database with the demo data, over plain HTTP on 127.0.0.1 (HIROBA_HTTPS=0, as
# `make run`). The rate limits and the forms' minimum fill time are lifted so that the scanner's
# attacks reach the views instead of being refused with 429.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

WAPITI_VERSION=3.2.3  # the last release for Python 3.11
VENV=${WAPITI_VENV:-/tmp/hiroba-wapiti-venv}
PYTHON=${WAPITI_PYTHON:-python3.11}
MAX_SCAN=${WAPITI_MAX_SCAN_SECONDS:-600}
MAX_ATTACK=${WAPITI_MAX_ATTACK_SECONDS:-45}
MODULES=backup,buster,cookieflags,crlf,csp,csrf,exec,file,htaccess,http_headers,https_redirect,ldap,methods,permanentxss,redirect,shellshock,sql,timesql,upload,xss
BIN=$ROOT/.venv/bin

if [[ ! -x "$VENV/bin/wapiti" ]] || ! "$VENV/bin/wapiti" --version 2>/dev/null | grep -q "$WAPITI_VERSION"; then
  echo "== wapiti: installing wapiti3==$WAPITI_VERSION in $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "wapiti3==$WAPITI_VERSION"
fi

WORK=$(mktemp -d /tmp/hiroba-wapiti.XXXXXX)
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" DJANGO_SETTINGS_MODULE=hiroba.settings
export HIROBA_DATA_DIR="$WORK/data" DATABASE_URL="sqlite:///$WORK/data/hiroba.sqlite3"
export HIROBA_SECRET_KEY="wapiti-scan-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export HIROBA_DEBUG=0 HIROBA_HTTPS=0 HIROBA_ALLOWED_HOSTS=127.0.0.1
export HIROBA_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export HIROBA_FORM_MIN_FILL_SECONDS=0 HIROBA_SCAN_WITHOUT_ALLAUTH_RATE_LIMITS=1
export HIROBA_RATE_LIMITS="$("$BIN/python" - <<'EOF'
from hiroba.settings import DEFAULT_RATE_LIMITS
print(";".join(f"{scope}=1000000/m/ip" for scope in DEFAULT_RATE_LIMITS))
EOF
)"
mkdir -p "$HIROBA_DATA_DIR"

echo "== wapiti: demo database in $WORK"
"$BIN/python" -m django migrate --no-input -v 0
"$BIN/python" -m django demo > "$WORK/demo.log"
"$BIN/python" -m django collectstatic --no-input -v 0

"$BIN/gunicorn" hiroba.wsgi -b "127.0.0.1:$PORT" -w 2 --threads 4 --timeout 60 --log-level warning \
  > "$WORK/gunicorn.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break
  sleep 0.5
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" || { cat "$WORK/gunicorn.log"; exit 1; }

echo "== wapiti: scanning http://127.0.0.1:$PORT/ (modules: $MODULES; at most ${MAX_SCAN}s)"
set +e
"$VENV/bin/wapiti" -u "http://127.0.0.1:$PORT/" --scope folder -m "$MODULES" \
  -x "http://127.0.0.1:$PORT/accounts/logout/" -x "http://127.0.0.1:$PORT/static/*" \
  -d 4 --max-links-per-page 60 --max-files-per-dir 40 --max-parameters 30 \
  --max-scan-time "$MAX_SCAN" --max-attack-time "$MAX_ATTACK" --tasks 4 \
  --flush-session --store-session "$WORK/session" --no-bugreport \
  -f json -o "$WORK/report.json" -v 0 > "$WORK/wapiti.log" 2>&1
status=$?
set -e
if [[ $status -ne 0 || ! -s "$WORK/report.json" ]]; then
  echo "wapiti failed (exit $status):"; tail -40 "$WORK/wapiti.log"; exit 1
fi

"$BIN/python" - "$WORK/report.json" <<'EOF'
"""Print every finding; exit 1 when one is above low (wapiti's levels: 1 low, 2 medium, 3 high, 4 critical)."""
import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
worst = 0
for section in ("vulnerabilities", "anomalies"):
    for category, findings in sorted(report.get(section, {}).items()):
        for f in findings:
            worst = max(worst, int(f.get("level", 0)))
            print(f"  [{section[:-3]} level {f.get('level')}] {category}: {f.get('method')} {f.get('path')} "
                  f"{f.get('parameter') or ''} — {f.get('info', '')[:160]}")
info = report.get("infos", {})
print(f"wapiti: {info.get('crawled_pages_nbr', '?')} pages crawled; worst level {worst}")
sys.exit(1 if worst > 1 else 0)
EOF

#!/usr/bin/env bash
# The class-sized deployment on one machine, without containers: N Streamlit replicas of the explorer
# on loopback ports behind Debian's nginx (session affinity by cookie, WebSocket upgrade).
#
#   bash deploy/local.sh start     # 2 replicas on 127.0.0.1:8601-8602, the proxy on 127.0.0.1:8600
#   bash deploy/local.sh status    # health of the proxy and of every replica
#   bash deploy/local.sh stop      # stops exactly what start started (pid files)
#
# Settings (environment): REPLICAS (2), PROXY_PORT (8600), FIRST_PORT (8601), ADDRESS (127.0.0.1),
# RUN_DIR (artifacts/deploy: pids, logs, nginx.conf), PYTHON (.venv/bin/python, else python3),
# NGINX (nginx). nginx: apt-get install -y nginx-light. To serve a class on the LAN, set
# ADDRESS=0.0.0.0 (the replicas stay on loopback; only the proxy listens outside).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPLICAS=${REPLICAS:-2}
PROXY_PORT=${PROXY_PORT:-8600}
FIRST_PORT=${FIRST_PORT:-8601}
ADDRESS=${ADDRESS:-127.0.0.1}
RUN_DIR=${RUN_DIR:-$ROOT/artifacts/deploy}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi

health() {   # prints "ok" when the Streamlit server at $1 answers
    "$PYTHON" - "$1" <<'PY' 2>/dev/null || true
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1] + "/_stcore/health", timeout=3).read().decode())
except Exception:
    pass
PY
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    if [ ! -x "$NGINX" ]; then
        echo "nginx not found: apt-get install -y nginx-light (or set NGINX=/path/to/nginx)" >&2
        exit 1
    fi
    mkdir -p "$RUN_DIR/.streamlit" "$RUN_DIR/nginx/logs" "$RUN_DIR/nginx/tmp"
    # The replicas run in RUN_DIR, so the production settings are their project config.
    cp "$ROOT/deploy/streamlit/config.toml" "$RUN_DIR/.streamlit/config.toml"
    local upstreams=()
    for ((i = 1; i <= REPLICAS; i++)); do
        local port=$((FIRST_PORT + i - 1)) pidfile="$RUN_DIR/replica-$i.pid"
        upstreams+=("127.0.0.1:$port")
        if alive "$pidfile"; then echo "replica $i already running (pid $(cat "$pidfile"))"; continue; fi
        (cd "$RUN_DIR" && exec "$PYTHON" -m streamlit run "$ROOT/app.py" --server.port "$port" \
            --server.address 127.0.0.1 >"$RUN_DIR/replica-$i.log" 2>&1) &
        echo $! >"$pidfile"
        echo "replica $i: pid $!, http://127.0.0.1:$port"
    done
    for ((i = 1; i <= REPLICAS; i++)); do
        local port=$((FIRST_PORT + i - 1)) waited=0
        until [ "$(health "http://127.0.0.1:$port")" = ok ]; do
            if ! alive "$RUN_DIR/replica-$i.pid" || [ $waited -ge 120 ]; then
                echo "replica $i did not start; see $RUN_DIR/replica-$i.log, which ends:" >&2
                tail -n 15 "$RUN_DIR/replica-$i.log" | sed 's/^/    /' >&2
                stop
                exit 1
            fi
            sleep 1
            waited=$((waited + 1))
        done
    done
    bash "$ROOT/deploy/nginx-conf.sh" "$ADDRESS:$PROXY_PORT" "${upstreams[@]}" >"$RUN_DIR/nginx/nginx.conf"
    if ! alive "$RUN_DIR/nginx/nginx.pid"; then
        "$NGINX" -p "$RUN_DIR/nginx/" -c nginx.conf -e logs/error.log
    fi
    local waited=0
    until [ "$(health "http://$ADDRESS:$PROXY_PORT")" = ok ]; do
        if [ $waited -ge 20 ]; then echo "the proxy did not answer; see $RUN_DIR/nginx/logs/error.log" >&2; stop; exit 1; fi
        sleep 0.5
        waited=$((waited + 1))
    done
    echo "proxy: pid $(cat "$RUN_DIR/nginx/nginx.pid"), http://$ADDRESS:$PROXY_PORT ($REPLICAS replicas)"
}

stop() {
    if alive "$RUN_DIR/nginx/nginx.pid"; then
        local pid
        pid=$(cat "$RUN_DIR/nginx/nginx.pid")
        kill -QUIT "$pid"   # graceful: the master waits for its workers, then removes the pid file
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        echo "proxy stopped"
    fi
    for pidfile in "$RUN_DIR"/replica-*.pid; do
        [ -f "$pidfile" ] || continue
        if alive "$pidfile"; then
            local pid
            pid=$(cat "$pidfile")
            kill -TERM "$pid"
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
            echo "$(basename "$pidfile" .pid) stopped"
        fi
        rm -f "$pidfile"
    done
}

status() {
    echo "proxy   http://$ADDRESS:$PROXY_PORT  $(health "http://$ADDRESS:$PROXY_PORT" || true)"
    for pidfile in "$RUN_DIR"/replica-*.pid; do
        [ -f "$pidfile" ] || continue
        local i=${pidfile##*replica-}
        i=${i%.pid}
        echo "replica $i http://127.0.0.1:$((FIRST_PORT + i - 1))  $(health "http://127.0.0.1:$((FIRST_PORT + i - 1))")"
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

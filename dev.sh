#!/usr/bin/env bash
# One entry point for people and CI:
#   bash dev.sh app     set everything up, then start the explorer on http://localhost:8501
#   bash dev.sh test    set everything up (browser included), then run every test
#   bash dev.sh bench   set everything up, then print the benchmark table
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

setup_python() {
    local requirements=$1
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the requirements changed since the last successful install.
    local stamp="$VENV/.installed-$(cat requirements*.txt | sha1sum | cut -c1-12)-$requirements"
    if [ ! -f "$stamp" ]; then
        echo "==> installing $requirements"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
        "$VENV/bin/python" -m pip install --quiet -r "$requirements"
        touch "$stamp"
    fi
}

find_chromium() {
    for candidate in "${BROWSER_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser "$(command -v chromium 2>/dev/null || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
    return 1
}

setup_browser() {
    # Browser tests and PNG/SVG export drive Debian's chromium (Playwright's own download is not used).
    if ! find_chromium >/dev/null; then
        echo "==> installing Debian's chromium"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    fi
    export BROWSER_PATH
    BROWSER_PATH=$(find_chromium)
}

setup_nginx() {
    # The two-replica deployment test (tests/browser/test_deploy.py) runs deploy/local.sh behind Debian's nginx.
    if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
        echo "==> installing Debian's nginx"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light >/dev/null
    fi
}

case "${1:-app}" in
    app)
        setup_python requirements.txt
        find_chromium >/dev/null && export BROWSER_PATH="$(find_chromium)" || true
        exec "$VENV/bin/python" -m streamlit run app.py --browser.gatherUsageStats false "${@:2}"
        ;;
    test)
        setup_python requirements-dev.txt
        setup_browser
        setup_nginx
        mkdir -p artifacts
        if [ $# -gt 1 ]; then  # extra pytest arguments: one run, as given
            echo "==> tests: ${*:2}"
            "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${@:2}"
        else
            # Unit, property and AppTest runs on both cores; the browser tests share one server and
            # one Chromium, so they run in a second, serial pass.
            echo "==> unit, property and app tests (2 workers)"
            "$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not browser" -n 2
            echo "==> browser tests (headless Chromium)"
            "$VENV/bin/python" -m pytest -q -p no:cacheprovider -m browser
        fi
        echo "==> benchmark (quick mode, smoke test)"
        "$VENV/bin/python" -m benchmarks --quick
        ;;
    bench)
        setup_python requirements-dev.txt
        setup_browser
        exec "$VENV/bin/python" -m benchmarks "${@:2}"
        ;;
    *)
        echo "usage: bash dev.sh app|test|bench" >&2
        exit 2
        ;;
esac

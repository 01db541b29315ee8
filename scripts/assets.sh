#!/usr/bin/env bash
# Installs the pinned front-end packages (package-lock.json) and copies the
# files the web app serves into web/static/vendor/. Idempotent; silent when
# everything is already up to date.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v npm >/dev/null 2>&1; then
    echo "assets.sh: npm is not installed (Debian: apt-get install npm)" >&2
    exit 1
fi

# npm ci rewrites node_modules/.package-lock.json; use it as the stamp.
stamp=node_modules/.package-lock.json
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    echo "assets.sh: installing front-end packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    touch "$stamp"
fi

dest=web/static/vendor
mkdir -p "$dest"

copied=0
for src in \
    node_modules/bootstrap/dist/css/bootstrap.min.css \
    node_modules/bootstrap/dist/css/bootstrap.rtl.min.css \
    node_modules/bootstrap/dist/js/bootstrap.bundle.min.js \
    node_modules/htmx.org/dist/htmx.min.js \
    node_modules/bpmn-js/dist/bpmn-viewer.production.min.js \
    node_modules/bpmn-js/dist/assets/bpmn-js.css \
    node_modules/bpmn-js/dist/assets/diagram-js.css; do
    if [ ! -f "$src" ]; then
        echo "assets.sh: missing $src after npm ci" >&2
        exit 1
    fi
    target="$dest/$(basename "$src")"
    if ! cmp -s "$src" "$target"; then
        cp "$src" "$target"
        copied=$((copied + 1))
    fi
done

if [ "$copied" -gt 0 ]; then
    echo "assets.sh: copied $copied file(s) into $dest"
fi

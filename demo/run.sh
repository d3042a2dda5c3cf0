#!/usr/bin/env bash
# The README's main job, on the embedded defaults: a SQLite registry seeded from contracts/,
# `apigov check` over the example fleet, a pull request that breaks two consumers, the
# deployment gate saying no (and why), and 20 seconds of fuzzing against one example service.
#
#   make demo            (sets up .venv first)
#   bash demo/run.sh     (with apigov already installed in .venv)
#
# Everything it writes goes to .apigov/demo/ (git-ignored), rebuilt on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

APIGOV="${APIGOV:-.venv/bin/apigov}"
PYTHON="${PYTHON:-.venv/bin/python}"
WORK=.apigov/demo
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
export APIGOV_REGISTRY="$WORK/registry.db"
export PACT_DO_NOT_TRACK=true

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; plain=$'\033[0m'; else bold=; dim=; plain=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '%s%s%s\n' "$dim" "$*" "$plain"; }

# Run a command that must end with the given exit code; anything else stops the demo.
expect() {
    local wanted=$1
    shift
    printf '%s$ apigov %s%s\n' "$dim" "${*:2}" "$plain"
    local code=0
    "$@" || code=$?
    if [ "$code" -ne "$wanted" ]; then
        echo "demo: expected exit $wanted, got $code from: $*" >&2
        exit 1
    fi
}

rm -rf "$WORK"
mkdir -p "$WORK"
services=()
for folder in contracts/*/; do
    name=$(basename "$folder")
    case $name in _*) continue ;; esac
    services+=("$name")
done

step "1. Seed the registry ($APIGOV_REGISTRY) from contracts/: every service at 1.0.0, deployed to staging and production"
for name in "${services[@]}"; do
    # publish prints "Published S@V: ..." on stderr; its validation summary is not needed here.
    "$APIGOV" publish "contracts/$name" --service "$name" --version 1.0.0 --branch main >/dev/null
    for env in staging production; do
        "$APIGOV" record-deployment "$name" 1.0.0 --env "$env" >/dev/null
    done
done
say "every service recorded as deployed to staging and production"

step "2. apigov check: validation, lint, every pact against its provider, fleet rules"
expect 0 "$APIGOV" check contracts/

step "3. A pull request removes Order.number from orders' spec (demo/orders-2.0.0.openapi.yaml)"
mkdir -p "$WORK/pr"
cp -R contracts "$WORK/pr/"
cp demo/orders-2.0.0.openapi.yaml "$WORK/pr/contracts/orders/openapi.yaml"
expect 1 "$APIGOV" diff contracts/orders/openapi.yaml "$WORK/pr/contracts/orders/openapi.yaml" \
    --consumers contracts/

step "4. Can orders 2.0.0 go to production? The gate checks it against every consumer deployed there"
"$APIGOV" publish "$WORK/pr/contracts/orders" --service orders --version 2.0.0 \
    --branch remove-order-number >/dev/null
expect 1 "$APIGOV" can-i-deploy orders 2.0.0 --to production
say "-> no: shipping and notifications (deployed in production) read Order.number."

step "5. Fuzz the payments example service for ${FUZZ_SECONDS} s (schemathesis, every phase and check)"
# The example providers accept the placeholder service token their consumers' pacts send.
export EXAMPLES_FLEET_TOKEN="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZXJ2aWNlIn0.c2lnbmF0dXJl"
"$PYTHON" -m examples.fleet serve --only payments --base-port 0 >"$WORK/payments.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 150); do
    grep -q '^ready' "$WORK/payments.log" && break
    kill -0 "$server" 2>/dev/null || { cat "$WORK/payments.log" >&2; exit 1; }
    sleep 0.2
done
url=$(awk '$1 == "payments" { print $2 }' "$WORK/payments.log")
[ -n "$url" ] || { echo "demo: the payments service did not start" >&2; exit 1; }
say "payments is serving at $url"
expect 0 "$APIGOV" fuzz contracts/payments/openapi.yaml --base-url "$url" \
    --bearer-env EXAMPLES_FLEET_TOKEN --max-time "$FUZZ_SECONDS" --seed 1

step "Done. Next: docs/commands.md has every command with a real example."

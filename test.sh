#!/usr/bin/env bash
# Runs every test and ends with one line: "N passed, N failed".
# The tests start their own redis-server processes on free loopback ports; this script only makes sure the
# binary is there (installing Debian's redis-server when running as root).
set -uo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        echo "redis-server is missing: installing Debian's package"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
            || { echo "could not install redis-server"; echo "0 passed, 1 failed"; exit 1; }
    else
        echo "redis-server is missing: run 'sudo apt-get install redis-server' and try again"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

# The /cache page test opens the sample in Debian's headless Chromium.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        echo "chromium is missing: installing Debian's package"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || { echo "could not install chromium"; echo "0 passed, 1 failed"; exit 1; }
    else
        echo "chromium is missing: run 'sudo apt-get install chromium' and try again"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

dotnet test CacheGen.sln -c Release --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
    p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
# A build failure or a crashed test host produces no (or too few) results: count it as a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Runs every test and ends with one line: "N passed, N failed".
# The tests start their own redis-server (and Garnet) processes on free loopback ports; this script only makes sure
# the binaries are there (installing Debian's redis-server when running as root, restoring the garnet-server tool).
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

# The contract suite also runs on Microsoft Garnet: a local tool of this repository (.config/dotnet-tools.json).
if ! dotnet tool restore >/dev/null; then
    echo "could not restore the local tools (garnet-server): dotnet tool restore failed"
    echo "0 passed, 1 failed"
    exit 1
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# A test host that hangs is killed after 10 minutes (no dump) and counts as a failure, instead of using up CI's time.
dotnet test CacheGen.sln -c Release --logger "trx" --results-directory "$results" \
    --blame-hang-timeout 10m --blame-hang-dump-type none "$@"
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

# A full run (no arguments, as CI and the README run it) must not shrink unnoticed: every test project reports at
# least one executed test, and the total is at least the floor in tests/min-tests. A filtered run is not held to it.
if [ "$#" -eq 0 ]; then
    total=$((passed + failed))
    for project in tests/*/*.Tests.csproj; do
        name="$(basename "$project" .csproj)"
        ran=0
        for trx in $(grep -il "/$name.dll" "$results"/*.trx 2>/dev/null); do
            counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
            executed="$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")"
            ran=$((ran + ${executed:-0}))
        done
        if [ "$ran" -eq 0 ]; then
            echo "$name ran no test: its tests are no longer discovered"
            failed=$((failed + 1))
        fi
    done
    floor="$(grep -E '^[0-9]+$' tests/min-tests | head -n1)"
    if [ "$total" -lt "${floor:-1}" ]; then
        echo "only $total tests ran, fewer than the $floor in tests/min-tests: some are no longer discovered"
        failed=$((failed + 1))
    fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# GET /posts/ (1000 posts) under load, every variant in one run: see bench/README.md.
#   bench/load/run.sh                       # about 3-4 minutes on 2 cores
#   ROUNDS=3 SECONDS_PER_RUN=10 bench/load/run.sh
# Results: bench/load/results/<UTC time>.{md,json,svg} and latest.{md,json,svg} (gitignored).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-2}                    # measured rounds; each round runs every variant once with each tool
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}  # length of one wrk or loadtest measurement
WARMUP_SECONDS=${WARMUP_SECONDS:-3}    # wrk per variant before round 1 (JIT tiering, pools, L1 filled)
WRK_THREADS=${WRK_THREADS:-1}          # one wrk thread drives 32 connections and leaves the other core to the server
POSTS=${POSTS:-1000}
VARIANTS=(off cachegen cachegen-br cachegen-304 cachegen-l1off microsoft fusion outputcache outputcache-redis static)

need() { # command, Debian package: install it when missing (as root), else say how
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ]; then
    echo "installing $2 ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "$1 is missing: sudo apt-get install $2" >&2; exit 1
  fi
}
need redis-server redis-server
need redis-cli redis-tools
need wrk wrk
need node nodejs
need npm npm
need python3 python3
need curl curl
[ -d "$here/node_modules/loadtest" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

echo "building the sample and its load host (Release) ..." >&2
dotnet build -c Release "$root/bench/CacheGen.LoadHost" -nologo -v q -clp:ErrorsOnly >&2
dll="$root/bench/CacheGen.LoadHost/bin/Release/net10.0/CacheGen.LoadHost.dll"

work=$(mktemp -d)
pids=()
cleanup() {
  # Only the processes this script started, by pid.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null

db="$work/posts.db"
(cd "$work" && dotnet "$dll" addpost "$POSTS" "--Posts:Database=$db") >&2

declare -A port
start_host() { # variant, extra args...
  local v=$1; shift
  port[$v]=$(free_port)
  # cwd is the scratch folder: no appsettings.json, so nothing but these arguments configures the sample.
  (cd "$work" && exec dotnet "$dll" "--urls=http://127.0.0.1:${port[$v]}" "--Posts:Database=$db" \
    "--Bench:Variant=$v" "--Bench:Redis=127.0.0.1:$redis_port" "--CacheGen:KeyPrefix=$v" \
    --Logging:LogLevel:Default=Warning "$@" >"$work/$v.log" 2>&1) &
  pids+=($!)
}
wait_ready() {
  for _ in $(seq 300); do grep -q '^ready:' "$work/$1.log" && { grep '^ready:' "$work/$1.log" >&2; return; }; sleep 0.1; done
  echo "variant $1 did not start:" >&2; cat "$work/$1.log" >&2; exit 1
}
# cachegen-br and cachegen-304 are the cachegen process asked differently: Accept-Encoding: br (the copy compressed
# once per cached payload), and If-None-Match with the list's ETag (a 304 revalidation).
etag=""   # the list's ETag, read once every host is up
host_of() { case $1 in cachegen-br|cachegen-304) echo cachegen ;; *) echo "$1" ;; esac; }
url() { local h; h=$(host_of "$1"); [ "$h" = static ] && echo "http://127.0.0.1:${port[$h]}/static/" || echo "http://127.0.0.1:${port[$h]}/posts/"; }
header() { case $1 in cachegen-br) echo "Accept-Encoding: br" ;; cachegen-304) echo "If-None-Match: $etag" ;; esac; }
wrk_run() { # variant, wrk arguments...
  local v=$1; shift
  local h; h=$(header "$v")
  if [ -n "$h" ]; then wrk -H "$h" "$@" "$(url "$v")"; else wrk "$@" "$(url "$v")"; fi
}

for v in "${VARIANTS[@]}"; do [ "$v" = static ] || [ "$(host_of "$v")" != "$v" ] || start_host "$v"; done
for v in "${VARIANTS[@]}"; do [ "$v" = static ] || [ "$(host_of "$v")" != "$v" ] || wait_ready "$v"; done
# The limit serves the very bytes the uncached sample answers.
curl -sf "$(url off)" -o "$work/body.json"
start_host static "--Bench:StaticBody=$work/body.json"
wait_ready static
for v in "${VARIANTS[@]}"; do
  [ -z "$(header "$v")" ] || continue
  # Twice: the second answer of a cached variant is a hit, and must be the same bytes.
  for _ in 1 2; do
    curl -sf "$(url "$v")" -o "$work/check.json"
    cmp -s "$work/body.json" "$work/check.json" || { echo "variant $v answers a different body" >&2; exit 1; }
  done
done
body_bytes=$(stat -c %s "$work/body.json")
echo "every variant answers the same $body_bytes-byte body" >&2
etag=$(curl -sf -o /dev/null -D - "$(url cachegen)" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$(url cachegen)")" = 304 ] || { echo "cachegen-304 does not answer 304" >&2; exit 1; }
curl -s -o "$work/br.bin" -H "Accept-Encoding: br" -D "$work/br.headers" "$(url cachegen)"
grep -qi '^content-encoding: br' "$work/br.headers" || { echo "cachegen-br is not compressed" >&2; exit 1; }
echo "cachegen-br: $(stat -c %s "$work/br.bin") bytes; cachegen-304: ETag $etag" >&2

echo "warm-up: wrk ${WARMUP_SECONDS}s per variant ..." >&2
for v in "${VARIANTS[@]}"; do wrk_run "$v" -t "$WRK_THREADS" -c 32 -d "${WARMUP_SECONDS}s" >/dev/null; done

samples="$work/samples.jsonl"
: >"$samples"
for round in $(seq "$ROUNDS"); do
  # Interleaved, and each round starts one variant later, so drift (thermal, Redis memory) spreads over all.
  n=${#VARIANTS[@]}
  for i in $(seq 0 $((n - 1))); do
    v=${VARIANTS[$(( (i + round - 1) % n ))]}
    line=$(wrk_run "$v" -t "$WRK_THREADS" -c 32 -d "${SECONDS_PER_RUN}s" -s "$here/wrk-report.lua" | sed -n 's/^WRKJSON //p')
    echo "{\"variant\":\"$v\",\"tool\":\"wrk\",\"round\":$round,\"sample\":$line}" >>"$samples"
    echo "round $round  $v  wrk -c32: $line" >&2
    [ -z "$(header "$v")" ] || continue   # loadtest.mjs sends no headers
    line=$(node "$here/loadtest.mjs" "$(url "$v")" "$SECONDS_PER_RUN" 1)
    echo "{\"variant\":\"$v\",\"tool\":\"loadtest\",\"round\":$round,\"sample\":$line}" >>"$samples"
    echo "round $round  $v  loadtest -c1: $line" >&2
  done
done

mkdir -p "$here/results"
python3 "$here/report.py" "$samples" "$here/results" \
  --body-bytes "$body_bytes" --posts "$POSTS" --rounds "$ROUNDS" --seconds "$SECONDS_PER_RUN" --wrk-threads "$WRK_THREADS" --warmup-seconds "$WARMUP_SECONDS"

#!/usr/bin/env bash
# The Django article's experiment with CacheGen: add 1000 posts, time GET /posts/ uncached and cached, look at the
# keys in Redis database 1, then write a post and watch the cached list follow. Everything it starts (a private
# redis-server and the API, each on a free loopback port) is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\n== %s\n' "$*"; }

# --- tools ----------------------------------------------------------------------------------------------------------
if ! command -v dotnet >/dev/null; then
    echo "demo.sh needs the .NET 10 SDK (dotnet) on PATH: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
    exit 1
fi
missing=()
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
        echo "installing ${missing[*]} with apt-get ..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "demo.sh needs ${missing[*]}: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

work=$(mktemp -d)
redis_pid=""
api_pid=""
cleanup() {
    # Only what this script started, by pid.
    local pid
    for pid in $api_pid $redis_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody answers on (bash's /dev/tcp connect fails), picked at random from the ephemeral range.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "no free port found" >&2
    return 1
}

# Waits up to 30 s for a command to succeed while the process with pid $1 is alive.
wait_for() {
    local pid=$1 log=$2
    shift 2
    for _ in $(seq 1 300); do
        "$@" >/dev/null 2>&1 && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "it exited; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "timed out; log:" >&2
    cat "$log" >&2
    return 1
}

# --- build ----------------------------------------------------------------------------------------------------------
say "dotnet build -c Release sample-api"
if ! dotnet build sample-api/CacheGen.SampleApi.csproj -c Release -nologo -v quiet >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    exit 1
fi
if ! dotnet build tools/CacheGen.Tool/CacheGen.Tool.csproj -c Release -nologo -v quiet >"$work/build-tool.log" 2>&1; then
    cat "$work/build-tool.log" >&2
    exit 1
fi
out=$PWD/sample-api/bin/Release/net10.0
app=("dotnet" "$out/CacheGen.SampleApi.dll")
echo "built sample-api/bin/Release/net10.0/CacheGen.SampleApi.dll"

# --- redis ----------------------------------------------------------------------------------------------------------
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$work" \
    >"$work/redis.log" 2>&1 &
redis_pid=$!
rcli() { redis-cli -p "$redis_port" -n 1 "$@"; }
wait_for "$redis_pid" "$work/redis.log" bash -c "[[ \$(redis-cli -p $redis_port ping) == PONG ]]"
say "redis-server $(redis-server --version | grep -o 'v=[^ ]*' | cut -c3-) on 127.0.0.1:$redis_port (pid $redis_pid)"

# The same settings the Django article used: Redis database 1, KEY_PREFIX "example".
config=("--Posts:Database=$work/posts.db" "--CacheGen:Redis=127.0.0.1:$redis_port,defaultDatabase=1"
    "--CacheGen:KeyPrefix=example" "--contentRoot=$out")

# --- addpost --------------------------------------------------------------------------------------------------------
say "addpost 1000"
"${app[@]}" addpost 1000 "${config[@]}"

# --- the API --------------------------------------------------------------------------------------------------------
api_port=$(free_port)
api="http://127.0.0.1:$api_port"
"${app[@]}" "--urls=$api" "${config[@]}" >"$work/api.log" 2>&1 &
api_pid=$!
# Ready when the OpenAPI document answers (asking /posts/ would warm the cache we are about to time).
wait_for "$api_pid" "$work/api.log" curl -sf -o /dev/null "$api/openapi/v1.json"
say "API on $api (pid $api_pid)"

count_posts() { grep -o '"post_[0-9]*":' "$1" | wc -l; }
get_posts() { curl -sf -o "$1" -w '%{time_total}' "$api/posts/"; }
post1='{"title":"Test Post0","content":"This is the test post 0"}'
# N timed GETs on one keep-alive connection (one curl, --next between requests); prints one time_total per line.
timed_cached() {
    local args=() i
    for ((i = 0; i < $1; i++)); do args+=(-sf -o /dev/null -w '%{time_total}\n' "$api/posts/" --next); done
    curl "${args[@]}" -sf -o /dev/null "$api/openapi/v1.json"
}
# The same, but each GET follows a PUT that rewrites post 1 unchanged: the PUT evicts the lists, so the GET
# reads SQLite again. Only the GETs are timed.
timed_uncached() {
    local args=() i
    for ((i = 0; i < $1; i++)); do
        args+=(-sf -o /dev/null -X PUT -H 'Content-Type: application/json' -d "$post1" "$api/posts/1" --next
            -sf -o /dev/null -w '%{time_total}\n' "$api/posts/" --next)
    done
    curl "${args[@]}" -sf -o /dev/null "$api/openapi/v1.json"
}
# Mean of the seconds on stdin, in milliseconds.
mean_ms() { awk '{ s += $1; n++ } END { printf "%.2f", 1000 * s / n }'; }

say "GET /posts/ (curl time_total)"
first=$(get_posts "$work/first.json")
awk -v t="$first" 'BEGIN { printf "  first request (uncached, cold JIT):       %7.2f ms\n", 1000 * t }'
# Warm both paths first, so what is compared is the cache against SQLite, not cold code against warm code.
timed_uncached 30 >/dev/null
timed_cached 200 >/dev/null
uncached=$(timed_uncached 30 | mean_ms)
cached=$(timed_cached 200 | mean_ms)
printf '  uncached, right after an evicting PUT:    %7s ms  (mean of 30)\n' "$uncached"
printf '  cached:                                   %7s ms  (mean of 200)\n' "$cached"
awk -v u="$uncached" -v c="$cached" 'BEGIN { printf "  cached is %.1fx faster (%d vs %d requests/s on one connection)\n", u / c, 1000 / u, 1000 / c }'
get_posts "$work/cached.json" >/dev/null
cmp -s "$work/first.json" "$work/cached.json" && echo "  cached body is byte-identical to the first one ($(count_posts "$work/cached.json") posts)"

say "redis-cli -n 1 KEYS '*'  (with TTL in seconds)"
rcli --scan --pattern '*' | sort | while read -r key; do
    printf '  %-40s ttl %s\n' "$key" "$(rcli TTL "$key")"
done

say "POST /posts/ evicts the lists (tag \"lists\"), not the cached single posts"
# Each tag's counter lives beside its region's entries: ...:#tag:{posts}:lists. An eviction moves it on, O(1).
lists_counter() { rcli --scan --pattern '*#tag:{posts}:lists' | head -n 1; }
counter_value() { [[ -n $1 ]] && rcli GET "$1" || echo "-"; }
curl -sf -o /dev/null "$api/posts/1"   # cache post 1, to show that writing another post leaves it alone
lists_key=$(lists_counter)
post1_key=$(rcli --scan --pattern '*#tag:{posts}:post:1' | head -n 1)
before=$(count_posts "$work/cached.json")
lists_before=$(counter_value "$lists_key")
post1_before=$(counter_value "$post1_key")
status=$(curl -s -o "$work/created.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"title":"Hello from demo.sh","content":"Cached lists follow writes."}' "$api/posts/")
echo "  POST -> $status $(cat "$work/created.json")"
[[ -z $lists_key ]] && lists_key=$(lists_counter)
get_posts "$work/after.json" >/dev/null
after=$(count_posts "$work/after.json")
echo "  tag counter ${lists_key:-(none)}: $lists_before -> $(counter_value "$lists_key")"
echo "  tag counter ${post1_key:-(none)}: $post1_before -> $(counter_value "$post1_key")  (post 1 stays cached)"
echo "  posts in GET /posts/: $before -> $after"
grep -q '"title":"Hello from demo.sh"' "$work/after.json" && echo "  the new post is in the next GET /posts/"

if ((after != before + 1)); then
    echo "unexpected: the list did not grow by one" >&2
    exit 1
fi
say "GET /health"
curl -s "$api/health" && echo

# The inspector reads the same settings as the app: the demo passes it the API's own arguments.
cachegen() { dotnet tools/CacheGen.Tool/bin/Release/net10.0/CacheGen.Tool.dll "$@"; }
curl -sf -o /dev/null "$api/posts/1"
say "cachegen regions"
cachegen regions "${config[@]}"
say "cachegen show '{posts}:post:1'"
cachegen show '{posts}:post:1' "${config[@]}"

say "done; stopping the API and redis-server"

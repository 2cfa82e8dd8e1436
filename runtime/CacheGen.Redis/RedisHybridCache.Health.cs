using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheGen.Redis;

// Health: what the cache can do now, for CacheGenHealthCheck. Never Unhealthy: without its cache the app still works.
internal sealed partial class RedisHybridCache
{
    public async Task<HealthCheckResult> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var data = new Dictionary<string, object>
        {
            ["local_entries"] = _local.AccountedCount,
            ["local_bytes"] = _local.Bytes,
        };
        if (_store is null)
        {
            data["redis"] = "not configured";
            return HealthCheckResult.Healthy("In-process cache only: no Redis is configured.", data);
        }

        TimeSpan? roundTrip = await _store.PingRoundTripAsync(cancellationToken).ConfigureAwait(false);
        BreakerState breaker = _store.BreakerState;
        int pending = _store.PendingEvictionCount;
        data["redis"] = roundTrip is null ? "not answering" : "answering";
        if (roundTrip is { } answered)
            data["redis_ping_ms"] = Math.Round(answered.TotalMilliseconds, 3);
        data["circuit_breaker"] = breaker switch
        {
            BreakerState.Open => "open",
            BreakerState.HalfOpen => "half_open",
            _ => "closed",
        };
        data["pending_evictions"] = pending;
        data["redis_reads_paused"] = _store.IsBypassingRedis;
        data["redis_scripting"] = _store.ScriptingRefused ? "refused" : "available or not yet known";

        // The first reason is the one a person acts on: an unreachable Redis explains an open breaker and pending evictions.
        string? degraded =
            roundTrip is null ? string.Create(CultureInfo.InvariantCulture, $"Redis did not answer a PING within {_options.RedisTimeout.TotalMilliseconds} ms: calls are served without it.")
            : breaker != BreakerState.Closed ? "The Redis circuit breaker is open: calls skip Redis until a probe in the background gets an answer."
            : pending > 0 ? string.Create(CultureInfo.InvariantCulture, $"{pending} eviction(s) wait for Redis to confirm them: the keys and regions they cover are not read from Redis meanwhile.")
            : _store.IsBypassingRedis ? "More evictions were lost than MaximumPendingEvictions: Redis is not read until the entries that may have missed them expired."
            : _store.ScriptingRefused ? "The Redis server refuses Lua scripts: entries are cached in-process only (evictions still reach other instances through pub/sub). Enable scripting (Garnet: --lua true)."
            : null;
        return degraded is null
            ? HealthCheckResult.Healthy("Redis answers.", data)
            : HealthCheckResult.Degraded(degraded, data: data);
    }
}

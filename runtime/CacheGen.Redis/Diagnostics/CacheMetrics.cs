using CacheGen.Infrastructure;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CacheGen.Redis;

/// <summary>
/// The <c>CacheGen</c> meter: hits (tagged <c>level</c> = <c>l1</c> | <c>l2</c>), misses, evictions, rejected stale
/// sets, Redis errors, backplane messages (sent, received, dropped), stampede joins (tagged <c>scope</c> =
/// <c>local</c> | <c>distributed</c>), the data call's duration, circuit breaker transitions and short circuits,
/// deferred/replayed/lost evictions, corrupt entries, and values not cached (oversized, or of a type that does not read back). One meter per cache instance, from the host's <see cref="IMeterFactory"/> when there is one.
/// Hits, misses, evictions, stale sets and fill durations carry the <c>region</c> (the entry's first tag, which
/// generated code makes the region) and, when the caller names it, the cached <c>method</c>: both are known at compile
/// time, so the series stay few; keys are never a tag. Observable instruments report the in-process entries and
/// bytes, the evictions waiting for Redis and the breaker's state when a listener collects them.
/// Also the <c>CacheGen</c> activity source, which traces fills (misses that ran the data call).
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    public const string MeterName = CacheGenTelemetry.MeterName;

    public static readonly ActivitySource ActivitySource = new(CacheGenTelemetry.ActivitySourceName);

    public const string RegionTag = "region";
    public const string MethodTag = "method";

    private static readonly KeyValuePair<string, object?> L1 = new("level", "l1");
    private static readonly KeyValuePair<string, object?> L2 = new("level", "l2");
    private static readonly KeyValuePair<string, object?> LocalScope = new("scope", "local");
    private static readonly KeyValuePair<string, object?> DistributedScope = new("scope", "distributed");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _staleSetsRejected;
    private readonly Counter<long> _staleServed;
    private readonly Counter<long> _redisErrors;
    private readonly Counter<long> _corruptEntries;
    private readonly Counter<long> _oversizedValues;
    private readonly Counter<long> _uncacheableValues;
    private readonly Counter<long> _backplaneSent;
    private readonly Counter<long> _backplaneReceived;
    private readonly Counter<long> _backplaneDropped;
    private readonly Counter<long> _stampedeJoins;
    private readonly Counter<long> _refreshes;
    private readonly Histogram<double> _fillDuration;
    private readonly Counter<long> _breakerTransitions;
    private readonly Counter<long> _shortCircuits;
    private readonly Counter<long> _evictionsDeferred;
    private readonly Counter<long> _evictionsReplayed;
    private readonly Counter<long> _evictionsLost;

    public CacheMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _hits = _meter.CreateCounter<long>("cachegen.hits", "{hit}", "Cache hits, by level (l1 = in-process, l2 = Redis).");
        _misses = _meter.CreateCounter<long>("cachegen.misses", "{miss}", "Calls that ran the data call.");
        _evictions = _meter.CreateCounter<long>("cachegen.evictions", "{eviction}", "Evicted keys and regions.");
        _staleSetsRejected = _meter.CreateCounter<long>("cachegen.stale_sets_rejected", "{write}", "Values not stored because they were computed before an eviction.");
        _staleServed = _meter.CreateCounter<long>("cachegen.stale_served", "{call}",
            "Expired values a fail-safe method served instead of its data call's result (reason failure or timeout).");
        _redisErrors = _meter.CreateCounter<long>("cachegen.redis_errors", "{error}", "Redis calls that failed or timed out.");
        _oversizedValues = _meter.CreateCounter<long>("cachegen.oversized_values", "{value}", "Values returned but not cached because they exceed MaximumPayloadBytes.");
        _uncacheableValues = _meter.CreateCounter<long>("cachegen.uncacheable_values", "{value}",
            "Values returned but not cached because their type does not read back exactly as it was written (tag type).");
        _backplaneSent = _meter.CreateCounter<long>("cachegen.backplane.sent", "{message}", "Eviction messages published to other instances.");
        _backplaneReceived = _meter.CreateCounter<long>("cachegen.backplane.received", "{message}", "Eviction messages from other instances that were applied.");
        _backplaneDropped = _meter.CreateCounter<long>("cachegen.backplane.dropped", "{message}", "Backplane messages received but not applied (unreadable, or dropped by fault injection).");
        _stampedeJoins = _meter.CreateCounter<long>("cachegen.stampede.joins", "{call}",
            "Misses that waited for a fill already running (scope local = this instance, distributed = another instance's lease).");
        _refreshes = _meter.CreateCounter<long>("cachegen.refreshes", "{refresh}",
            "Background refreshes ahead of expiry (RefreshAheadPercent), by outcome: started, skipped (another instance or fill had the key), failed.");
        // Seconds, so the default buckets (made for milliseconds) would put every fill in the first one or two.
        _fillDuration = _meter.CreateHistogram<double>("cachegen.fill.duration", "s", "How long the data call took on a miss.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _breakerTransitions = _meter.CreateCounter<long>("cachegen.circuit_breaker.transitions", "{transition}",
            "Circuit breaker state changes, by the state entered (state = open | half_open | closed).");
        _shortCircuits = _meter.CreateCounter<long>("cachegen.circuit_breaker.short_circuits", "{call}",
            "Redis calls not made because the circuit breaker was open (a miss or a skipped write, at once).");
        _evictionsDeferred = _meter.CreateCounter<long>("cachegen.evictions.deferred", "{eviction}",
            "Evictions Redis did not confirm (failed, timed out or breaker open), remembered to be replayed.");
        _evictionsReplayed = _meter.CreateCounter<long>("cachegen.evictions.replayed", "{eviction}", "Remembered evictions made in Redis once it answered.");
        _evictionsLost = _meter.CreateCounter<long>("cachegen.evictions.lost", "{eviction}",
            "Unconfirmed evictions past MaximumPendingEvictions; Redis reads stop until entries that may have missed them expired.");
        _corruptEntries = _meter.CreateCounter<long>("cachegen.corrupt_entries", "{entry}",
            "Unreadable or foreign data found under a CacheGen key: a miss, and the entry is replaced (tag problem = format | too_large | schema | key | checksum | json | wrong_type | generation | rollback).");
    }

    public Meter Meter => _meter;

    public void LocalHit(string? region, string? method = null)
    {
        // The hot path: no tag list at all unless someone listens.
        if (_hits.Enabled)
            _hits.Add(1, Tags(L1, region, method));
    }

    public void RedisHit(string? region, string? method = null) => _hits.Add(1, Tags(L2, region, method));

    public void Miss(string? region, string? method = null) => _misses.Add(1, Tags(region, method));

    public void Eviction(string? region, string? method = null) => _evictions.Add(1, Tags(region, method));

    public void StaleSetRejected(string? region, string? method = null) => _staleSetsRejected.Add(1, Tags(region, method));

    public void StaleServed(string? region, string? method, string reason)
    {
        TagList tags = Tags(region, method);
        tags.Add("reason", reason);
        _staleServed.Add(1, tags);
    }

    public void RefreshStarted(string? region, string? method) => Refresh(region, method, "started");

    public void RefreshSkipped(string? region, string? method) => Refresh(region, method, "skipped");

    public void RefreshFailed(string? region, string? method) => Refresh(region, method, "failed");

    private void Refresh(string? region, string? method, string outcome)
    {
        TagList tags = Tags(region, method);
        tags.Add("outcome", outcome);
        _refreshes.Add(1, tags);
    }

    private static TagList Tags(string? region, string? method)
    {
        var tags = new TagList();
        if (region is not null)
            tags.Add(RegionTag, region);
        if (method is not null)
            tags.Add(MethodTag, method);
        return tags;
    }

    private static TagList Tags(KeyValuePair<string, object?> first, string? region, string? method)
    {
        TagList tags = Tags(region, method);
        tags.Add(first);
        return tags;
    }

    /// <summary>
    /// The region of an entry with these tags: the first one (generated code passes the region first), or null when
    /// there is none. The internal clear-epoch tag is not a region.
    /// </summary>
    public static string? RegionOf(string[] tags) =>
        tags.Length > 0 && !ReferenceEquals(tags[0], RedisKeyLayout.ClearTag) ? tags[0] : null;

    /// <summary>
    /// The region of an evicted key: generated keys start with <c>{region}</c> (their Redis Cluster hash tag), other
    /// keys have none. Only the region is taken from a key, never the key itself.
    /// </summary>
    public static string? RegionOfKey(string key) =>
        KeyFormat.TryGetRegion(key, out ReadOnlySpan<char> region) ? region.ToString() : null;

    /// <summary>Reports the cache's current state to whoever collects the observable instruments.</summary>
    public void ObserveState(Func<long> localEntries, Func<long> localBytes, Func<long> pendingEvictions, Func<BreakerState?> breaker)
    {
        _meter.CreateObservableUpDownCounter("cachegen.local.entries", localEntries, "{entry}", "Entries in the in-process cache.");
        _meter.CreateObservableUpDownCounter("cachegen.local.bytes", localBytes, "By", "Bytes the in-process entries count against MaximumLocalBytes.");
        _meter.CreateObservableUpDownCounter("cachegen.evictions.pending", pendingEvictions, "{eviction}",
            "Evictions Redis has not confirmed yet, waiting to be replayed.");
        _meter.CreateObservableGauge("cachegen.circuit_breaker.state", () => breaker() switch
        {
            null => [],
            { } state => new[] { new Measurement<int>(state switch { BreakerState.Open => 2, BreakerState.HalfOpen => 1, _ => 0 }) },
        }, "{state}", "The Redis circuit breaker: 0 = closed (calls go to Redis), 1 = half open (probing), 2 = open (Redis skipped). None without Redis.");
    }

    public void RedisError() => _redisErrors.Add(1);

    public void OversizedValue() => _oversizedValues.Add(1);

    public void UncacheableValue(string type) => _uncacheableValues.Add(1, new KeyValuePair<string, object?>("type", type));

    public void BackplaneSent() => _backplaneSent.Add(1);

    public void BackplaneReceived() => _backplaneReceived.Add(1);

    public void BackplaneDropped() => _backplaneDropped.Add(1);

    public void LocalStampedeJoin() => _stampedeJoins.Add(1, LocalScope);

    public void DistributedStampedeJoin() => _stampedeJoins.Add(1, DistributedScope);

    public void FillDuration(TimeSpan elapsed, string? region, string? method = null) => _fillDuration.Record(elapsed.TotalSeconds, Tags(region, method));

    public void BreakerTransition(BreakerState entered) => _breakerTransitions.Add(1, new KeyValuePair<string, object?>("state", entered switch
    {
        BreakerState.Open => "open",
        BreakerState.HalfOpen => "half_open",
        _ => "closed",
    }));

    public void ShortCircuit() => _shortCircuits.Add(1);

    public void EvictionDeferred() => _evictionsDeferred.Add(1);

    public void EvictionsReplayed(int count) => _evictionsReplayed.Add(count);

    public void EvictionLost() => _evictionsLost.Add(1);

    public void CorruptEntry(string problem) => _corruptEntries.Add(1, new KeyValuePair<string, object?>("problem", problem));

    public void Dispose()
    {
        // A factory's meters belong to the factory.
        if (_ownsMeter)
            _meter.Dispose();
    }
}

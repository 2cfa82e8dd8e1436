using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CacheGen.Redis;

/// <summary>
/// The <c>CacheGen</c> meter: hits (tagged <c>level</c> = <c>l1</c> | <c>l2</c>), misses, evictions, rejected stale
/// sets, Redis errors, backplane messages (sent, received, dropped), stampede joins (tagged <c>scope</c> =
/// <c>local</c> | <c>distributed</c>), the data call's duration, circuit breaker transitions and short circuits,
/// deferred/replayed/lost evictions, corrupt entries, and values not cached (oversized, or of a type that does not read back). One meter per cache instance, from the host's <see cref="IMeterFactory"/> when there is one.
/// Also the <c>CacheGen</c> activity source, which traces fills (misses that ran the data call).
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    public const string MeterName = "CacheGen";

    public static readonly ActivitySource ActivitySource = new(MeterName);

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
    private readonly Counter<long> _redisErrors;
    private readonly Counter<long> _corruptEntries;
    private readonly Counter<long> _oversizedValues;
    private readonly Counter<long> _uncacheableValues;
    private readonly Counter<long> _backplaneSent;
    private readonly Counter<long> _backplaneReceived;
    private readonly Counter<long> _backplaneDropped;
    private readonly Counter<long> _stampedeJoins;
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
        _redisErrors = _meter.CreateCounter<long>("cachegen.redis_errors", "{error}", "Redis calls that failed or timed out.");
        _oversizedValues = _meter.CreateCounter<long>("cachegen.oversized_values", "{value}", "Values returned but not cached because they exceed MaximumPayloadBytes.");
        _uncacheableValues = _meter.CreateCounter<long>("cachegen.uncacheable_values", "{value}",
            "Values returned but not cached because their type does not read back exactly as it was written (tag type).");
        _backplaneSent = _meter.CreateCounter<long>("cachegen.backplane.sent", "{message}", "Eviction messages published to other instances.");
        _backplaneReceived = _meter.CreateCounter<long>("cachegen.backplane.received", "{message}", "Eviction messages from other instances that were applied.");
        _backplaneDropped = _meter.CreateCounter<long>("cachegen.backplane.dropped", "{message}", "Backplane messages received but not applied (unreadable, or dropped by fault injection).");
        _stampedeJoins = _meter.CreateCounter<long>("cachegen.stampede.joins", "{call}",
            "Misses that waited for a fill already running (scope local = this instance, distributed = another instance's lease).");
        _fillDuration = _meter.CreateHistogram<double>("cachegen.fill.duration", "s", "How long the data call took on a miss.");
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

    public void LocalHit() => _hits.Add(1, L1);

    public void RedisHit() => _hits.Add(1, L2);

    public void Miss() => _misses.Add(1);

    public void Eviction() => _evictions.Add(1);

    public void StaleSetRejected() => _staleSetsRejected.Add(1);

    public void RedisError() => _redisErrors.Add(1);


    public void OversizedValue() => _oversizedValues.Add(1);

    public void UncacheableValue(string type) => _uncacheableValues.Add(1, new KeyValuePair<string, object?>("type", type));

    public void BackplaneSent() => _backplaneSent.Add(1);

    public void BackplaneReceived() => _backplaneReceived.Add(1);

    public void BackplaneDropped() => _backplaneDropped.Add(1);

    public void LocalStampedeJoin() => _stampedeJoins.Add(1, LocalScope);

    public void DistributedStampedeJoin() => _stampedeJoins.Add(1, DistributedScope);

    public void FillDuration(TimeSpan elapsed) => _fillDuration.Record(elapsed.TotalSeconds);

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

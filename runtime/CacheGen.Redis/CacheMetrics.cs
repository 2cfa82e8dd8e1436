using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CacheGen.Redis;

/// <summary>
/// The <c>CacheGen</c> meter: hits (tagged <c>level</c> = <c>l1</c> | <c>l2</c>), misses, evictions, rejected stale
/// sets, Redis errors, backplane messages (sent, received, dropped), stampede joins (tagged <c>scope</c> =
/// <c>local</c> | <c>distributed</c>) and the data call's duration. One meter per cache instance, from the host's <see cref="IMeterFactory"/> when there is one.
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
    private readonly Counter<long> _backplaneSent;
    private readonly Counter<long> _backplaneReceived;
    private readonly Counter<long> _backplaneDropped;
    private readonly Counter<long> _stampedeJoins;
    private readonly Histogram<double> _fillDuration;

    public CacheMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _hits = _meter.CreateCounter<long>("cachegen.hits", "{hit}", "Cache hits, by level (l1 = in-process, l2 = Redis).");
        _misses = _meter.CreateCounter<long>("cachegen.misses", "{miss}", "Calls that ran the data call.");
        _evictions = _meter.CreateCounter<long>("cachegen.evictions", "{eviction}", "Evicted keys and regions.");
        _staleSetsRejected = _meter.CreateCounter<long>("cachegen.stale_sets_rejected", "{write}", "Values not stored because they were computed before an eviction.");
        _redisErrors = _meter.CreateCounter<long>("cachegen.redis_errors", "{error}", "Redis calls that failed or timed out.");
        _corruptEntries = _meter.CreateCounter<long>("cachegen.corrupt_entries", "{entry}", "Redis entries that could not be read as the expected value (a miss; the entry is replaced).");
        _oversizedValues = _meter.CreateCounter<long>("cachegen.oversized_values", "{value}", "Values returned but not cached because they exceed MaximumPayloadBytes.");
        _backplaneSent = _meter.CreateCounter<long>("cachegen.backplane.sent", "{message}", "Eviction messages published to other instances.");
        _backplaneReceived = _meter.CreateCounter<long>("cachegen.backplane.received", "{message}", "Eviction messages from other instances that were applied.");
        _backplaneDropped = _meter.CreateCounter<long>("cachegen.backplane.dropped", "{message}", "Backplane messages received but not applied (unreadable, or dropped by fault injection).");
        _stampedeJoins = _meter.CreateCounter<long>("cachegen.stampede.joins", "{call}",
            "Misses that waited for a fill already running (scope local = this instance, distributed = another instance's lease).");
        _fillDuration = _meter.CreateHistogram<double>("cachegen.fill.duration", "s", "How long the data call took on a miss.");
    }

    public Meter Meter => _meter;

    public void LocalHit() => _hits.Add(1, L1);

    public void RedisHit() => _hits.Add(1, L2);

    public void Miss() => _misses.Add(1);

    public void Eviction() => _evictions.Add(1);

    public void StaleSetRejected() => _staleSetsRejected.Add(1);

    public void RedisError() => _redisErrors.Add(1);

    public void CorruptEntry() => _corruptEntries.Add(1);

    public void OversizedValue() => _oversizedValues.Add(1);

    public void BackplaneSent() => _backplaneSent.Add(1);

    public void BackplaneReceived() => _backplaneReceived.Add(1);

    public void BackplaneDropped() => _backplaneDropped.Add(1);

    public void LocalStampedeJoin() => _stampedeJoins.Add(1, LocalScope);

    public void DistributedStampedeJoin() => _stampedeJoins.Add(1, DistributedScope);

    public void FillDuration(TimeSpan elapsed) => _fillDuration.Record(elapsed.TotalSeconds);

    public void Dispose()
    {
        // A factory's meters belong to the factory.
        if (_ownsMeter)
            _meter.Dispose();
    }
}

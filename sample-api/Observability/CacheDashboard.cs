using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CacheGen.Redis;

namespace CacheGen.SampleApi.Observability;

/// <summary>
/// What the <c>/cache</c> page shows, gathered from this app's own CacheGen meter with a <see cref="MeterListener"/>:
/// per region and cached method, running totals of hits, misses and evictions, and of background refreshes by outcome
/// (RefreshAheadPercent: started, skipped, failed; a measurement costs a dictionary lookup
/// and an interlocked add), sampled once a second into the last <see cref="WindowSeconds"/> seconds; the last
/// evictions; and, when the page asks, the observable state (in-process entries and bytes, pending evictions, breaker).
/// </summary>
public sealed class CacheDashboard : IDisposable
{
    public const int WindowSeconds = 300;
    private const int LastEvictionCount = 20;
    private const string AllMethods = "";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Region, string Method), Series> _series = new();
    private readonly ConcurrentQueue<EvictionSeen> _lastEvictions = new();
    private readonly Lock _sampling = new();
    private readonly TimeProvider _time;
    private readonly ITimer _sampler;
    private long _localEntries;
    private long _localBytes;
    private long _pendingEvictions;
    private int _breaker = -1; // -1: no breaker reported (no Redis)

    public CacheDashboard(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // This app's cache only: its meter comes from this host's factory (tests run several hosts in one process).
            if (instrument.Meter.Name == CacheGenTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory)
                && instrument.Name is "cachegen.hits" or "cachegen.misses" or "cachegen.evictions" or "cachegen.refreshes" or "cachegen.local.entries"
                    or "cachegen.local.bytes" or "cachegen.evictions.pending" or "cachegen.circuit_breaker.state")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (instrument.Name == "cachegen.circuit_breaker.state")
                Volatile.Write(ref _breaker, value);
        });
        _listener.Start();
        _sampler = time.CreateTimer(_ => Sample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case "cachegen.local.entries":
                _localEntries = value;
                return;
            case "cachegen.local.bytes":
                _localBytes = value;
                return;
            case "cachegen.evictions.pending":
                _pendingEvictions = value;
                return;
        }
        string region = "(none)";
        string method = AllMethods;
        string? outcome = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "region" && tag.Value is string r)
                region = r;
            else if (tag.Key == "method" && tag.Value is string m)
                method = m;
            else if (tag.Key == "outcome" && tag.Value is string o)
                outcome = o;
        }
        Series series = SeriesOf(region, method);
        switch (instrument.Name)
        {
            case "cachegen.hits":
                Interlocked.Add(ref series.Hits, value);
                break;
            case "cachegen.misses":
                Interlocked.Add(ref series.Misses, value);
                break;
            case "cachegen.refreshes" when outcome == "started":
                Interlocked.Add(ref series.RefreshesStarted, value);
                break;
            case "cachegen.refreshes" when outcome == "skipped":
                Interlocked.Add(ref series.RefreshesSkipped, value);
                break;
            case "cachegen.refreshes":
                Interlocked.Add(ref series.RefreshesFailed, value);
                break;
            default:
                Interlocked.Add(ref series.Evictions, value);
                _lastEvictions.Enqueue(new EvictionSeen(_time.GetUtcNow().ToUnixTimeMilliseconds(), region, method.Length == 0 ? null : method));
                while (_lastEvictions.Count > LastEvictionCount)
                    _lastEvictions.TryDequeue(out _);
                break;
        }
    }

    // The series this thread counted last: generated code passes the same region and method strings on every call, so
    // comparing references skips hashing them on almost every measurement.
    [ThreadStatic]
    private static (CacheDashboard Owner, string Region, string Method, Series Series) t_last;

    private Series SeriesOf(string region, string method)
    {
        (CacheDashboard owner, string lastRegion, string lastMethod, Series last) = t_last;
        if (ReferenceEquals(owner, this) && ReferenceEquals(lastRegion, region) && ReferenceEquals(lastMethod, method))
            return last;
        Series series = _series.GetOrAdd((region, method), static _ => new Series());
        t_last = (this, region, method, series);
        return series;
    }

    /// <summary>Once a second: each series' totals now, so the page gets per-second counts as differences.</summary>
    private void Sample()
    {
        lock (_sampling)
        {
            foreach (Series series in _series.Values)
                series.Sample();
        }
    }

    /// <summary>Everything the page draws, as of now.</summary>
    public DashboardSnapshot Snapshot(CacheHealth health)
    {
        // Observable instruments report when collected: only when someone looks.
        _listener.RecordObservableInstruments();
        List<SeriesSnapshot> series;
        lock (_sampling)
        {
            series = [.. _series.OrderBy(s => s.Key.Region, StringComparer.Ordinal).ThenBy(s => s.Key.Method, StringComparer.Ordinal)
                .Select(s => s.Value.Snapshot(s.Key.Region, s.Key.Method.Length == 0 ? null : s.Key.Method))];
        }
        return new DashboardSnapshot(
            _time.GetUtcNow().ToUnixTimeMilliseconds(), WindowSeconds, series,
            Volatile.Read(ref _localEntries), Volatile.Read(ref _localBytes), Volatile.Read(ref _pendingEvictions),
            Volatile.Read(ref _breaker) switch { 0 => "closed", 1 => "half open", 2 => "open", _ => "none (no Redis)" },
            health, [.. _lastEvictions.Reverse()]);
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _listener.Dispose();
    }

    private sealed class Series
    {
        public long Hits;
        public long Misses;
        public long Evictions;
        // Totals since start: refreshes are a few per entry lifetime, too few for a per-second chart.
        public long RefreshesStarted;
        public long RefreshesSkipped;
        public long RefreshesFailed;
        // Per-second increases over the window, oldest first; a ring written at _next.
        private readonly long[] _hits = new long[WindowSeconds];
        private readonly long[] _misses = new long[WindowSeconds];
        private readonly long[] _evictions = new long[WindowSeconds];
        private long _sampledHits;
        private long _sampledMisses;
        private long _sampledEvictions;
        private int _next;

        public void Sample()
        {
            long hits = Volatile.Read(ref Hits), misses = Volatile.Read(ref Misses), evictions = Volatile.Read(ref Evictions);
            _hits[_next] = hits - _sampledHits;
            _misses[_next] = misses - _sampledMisses;
            _evictions[_next] = evictions - _sampledEvictions;
            (_sampledHits, _sampledMisses, _sampledEvictions) = (hits, misses, evictions);
            _next = (_next + 1) % WindowSeconds;
        }

        public SeriesSnapshot Snapshot(string region, string? method) => new(region, method,
            Ordered(_hits), Ordered(_misses), Ordered(_evictions),
            Volatile.Read(ref Hits), Volatile.Read(ref Misses), Volatile.Read(ref Evictions))
        {
            Refreshes = new RefreshCounts(Volatile.Read(ref RefreshesStarted), Volatile.Read(ref RefreshesSkipped), Volatile.Read(ref RefreshesFailed)),
        };

        private long[] Ordered(long[] ring) => [.. ring[_next..], .. ring[.._next]];
    }
}

public sealed record SeriesSnapshot(string Region, string? Method, long[] HitsPerSecond, long[] MissesPerSecond, long[] EvictionsPerSecond,
    long Hits, long Misses, long Evictions)
{
    /// <summary>Background refreshes ahead of expiry since the app started (RefreshAheadPercent).</summary>
    public RefreshCounts Refreshes { get; init; } = new(0, 0, 0);
}

/// <summary>Refreshes ahead of expiry: started, skipped (another instance or a fill had the key), failed (the value stayed).</summary>
public sealed record RefreshCounts(long Started, long Skipped, long Failed);

public sealed record EvictionSeen(long At, string Region, string? Method);

public sealed record CacheHealth(string Status, string? Description, string Redis);

public sealed record DashboardSnapshot(long Now, int WindowSeconds, List<SeriesSnapshot> Series, long LocalEntries, long LocalBytes,
    long PendingEvictions, string Breaker, CacheHealth Health, List<EvictionSeen> LastEvictions);

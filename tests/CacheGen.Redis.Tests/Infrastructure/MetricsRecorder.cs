using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// A real <see cref="MeterListener"/> on one cache instance's meter: sums every measurement by instrument name and by
/// name plus each tag (<c>cachegen.hits|level=l1</c>).
/// </summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _sums = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly ConcurrentDictionary<string, double> _latest = new();

    public MetricsRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.Start();
    }

    private void Record(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _latest[name] = value;
        Add(name, value);
        foreach (KeyValuePair<string, object?> tag in tags)
            Add($"{name}|{tag.Key}={tag.Value}", value);
    }

    private void Add(string key, double value)
    {
        _sums.AddOrUpdate(key, value, (_, sum) => sum + value);
        _counts.AddOrUpdate(key, 1, (_, count) => count + 1);
    }

    /// <summary>The sum of <paramref name="name"/>'s measurements, optionally only those with tag <paramref name="tag"/> ("level=l1").</summary>
    public long Sum(string name, string? tag = null) => (long)_sums.GetValueOrDefault(tag is null ? name : $"{name}|{tag}");

    /// <summary>How many measurements <paramref name="name"/> recorded (for histograms).</summary>
    public int Count(string name) => _counts.GetValueOrDefault(name);

    /// <summary>Every tag key=value pair recorded so far (to check what the series are split by).</summary>
    public IEnumerable<string> TagPairs => _sums.Keys.Where(k => k.Contains('|')).Select(k => k[(k.IndexOf('|') + 1)..]);

    /// <summary>Collects the observable instruments now and returns the last value <paramref name="name"/> reported (null if none).</summary>
    public double? Observe(string name)
    {
        _latest.TryRemove(name, out _);
        _listener.RecordObservableInstruments();
        return _latest.TryGetValue(name, out double value) ? value : null;
    }

    public void Dispose() => _listener.Dispose();
}

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// JitterPercent as generated code does it against CacheGen's in-process HybridCache, on a fake clock; and what a
/// cache that cannot do it says.
/// </summary>
public sealed class FreshnessTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ServiceProvider _services;
    private readonly RateBoard _rates;

    public FreshnessTests()
    {
        _services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_clock).AddCacheGen().BuildServiceProvider();
        _rates = new RateBoard(_services.GetRequiredService<HybridCache>());
    }

    public void Dispose() => _services.Dispose();

    private async Task<int> StillCachedAsync(string[] currencies, string marker)
    {
        int cached = 0;
        foreach (string currency in currencies)
            cached += await _rates.RateAsync(currency) == marker ? 1 : 0;
        return cached;
    }

    [Fact]
    public async Task Entries_stored_together_expire_spread_over_the_jitter_share_never_after_the_ttl()
    {
        string[] currencies = [.. Enumerable.Range(0, 100).Select(i => "C" + i)];
        foreach (string currency in currencies)
            await _rates.RateAsync(currency);
        Assert.Equal(100, _rates.Calls);
        _rates.Next = "v2";

        // TtlSeconds = 100 and JitterPercent = 50: each lives 50 to 100 s.
        _clock.Advance(TimeSpan.FromSeconds(49.9));
        Assert.Equal(100, await StillCachedAsync(currencies, "v1"));
        _clock.Advance(TimeSpan.FromSeconds(25));
        Assert.InRange(await StillCachedAsync(currencies, "v1"), 1, 99);
        _clock.Advance(TimeSpan.FromSeconds(25.2));
        Assert.Equal(0, await StillCachedAsync(currencies, "v1"));
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_jittered_method_reads_through_and_warns_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var rates = new RateBoard(services.GetRequiredService<HybridCache>());

        Assert.Equal("v1", await rates.RateAsync("EUR"));
        Assert.Equal("v1", await rates.RateAsync("EUR"));
        Assert.Equal("v1", await rates.RateAsync("USD"));
        Assert.Equal(2, rates.Calls);

        EventWrittenEventArgs warning = Assert.Single(warnings.For("RateBoard.RateAsync"));
        Assert.Equal(1, warning.EventId);
        Assert.Equal("JitterPercent", warning.Payload![1]);
    }

    /// <summary>The warnings of the CacheGen event source (its events come from every thread, so tests filter by method).</summary>
    private sealed class FeatureWarnings : EventListener
    {
        private readonly ConcurrentQueue<EventWrittenEventArgs> _events = new();

        public IEnumerable<EventWrittenEventArgs> For(string method) =>
            _events.Where(e => e.Payload is [string name, ..] && name.EndsWith(method, StringComparison.Ordinal));

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "CacheGen")
                EnableEvents(eventSource, EventLevel.Warning);
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData) => _events.Enqueue(eventData);
    }
}

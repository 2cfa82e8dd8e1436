using System.Diagnostics;
using System.Diagnostics.Metrics;
using CacheGen.Infrastructure;
using CacheGen.SampleApi.Observability;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// The <c>/cache</c> page's data counts refreshes ahead of expiry per region and method, from the app's own CacheGen
/// meter (in-process CacheGen, a method refreshed halfway through its one-second lifetime).
/// </summary>
public sealed class CacheDashboardRefreshTests
{
    private static readonly CachedMethod Rates = new("Sample.Rates.GetAsync", "rates", new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(1) })
    {
        RefreshAheadPercent = 50,
    };

    [Fact]
    public async Task A_refresh_ahead_is_counted_for_its_region_and_method()
    {
        await using ServiceProvider services = new ServiceCollection().AddLogging().AddMetrics().AddCacheGen().BuildServiceProvider();
        using var dashboard = new CacheDashboard(services.GetRequiredService<IMeterFactory>(), TimeProvider.System);
        var cache = (IMethodCache)services.GetRequiredService<HybridCache>();
        int calls = 0;
        ValueTask<int> Read() => cache.GetOrCreateAsync(Rates, "{rates}:eur", 0, (_, _) => new ValueTask<int>(Interlocked.Increment(ref calls)), null, null, default);

        Assert.Equal(1, await Read());
        // Past half of its lifetime, before its end: the hit answers 1 and refreshes the entry in the background.
        await Task.Delay(600);
        Assert.Equal(1, await Read());
        var waited = Stopwatch.StartNew();
        while (Volatile.Read(ref calls) < 2)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "the refresh never ran");
            await Task.Delay(10);
        }

        SeriesSnapshot series = Assert.Single(dashboard.Snapshot(new CacheHealth("Healthy", null, "none")).Series,
            s => s is { Region: "rates", Method: "Sample.Rates.GetAsync" } && s.Refreshes.Started > 0);
        Assert.Equal(new RefreshCounts(1, 0, 0), series.Refreshes);
        Assert.Equal(1, series.Misses);
    }
}

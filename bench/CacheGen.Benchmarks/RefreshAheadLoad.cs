using System.Diagnostics;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CacheGen.Benchmarks;

/// <summary>
/// (i) Not a BenchmarkDotNet run: steady reads of one key whose entry lives 1 s and whose data call takes 50 ms, across
/// many expiries, with Redis behind each cache: CacheGen without and with <c>RefreshAheadPercent = 80</c>, FusionCache
/// without and with <c>EagerRefreshThreshold = 0.8</c>, side by side in one run. Prints each read's p50, p99 and worst
/// latency and how many data calls ran. Run: <c>dotnet run -c Release -- --scenario refresh-ahead</c>.
/// </summary>
public static class RefreshAheadLoad
{
    private const int Readers = 4;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(Environment.GetEnvironmentVariable("REFRESH_SECONDS") is { } s ? int.Parse(s) : 10);
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    public static void Run()
    {
        using RedisServer redis = RedisServer.Start();
        Console.WriteLine($"{Duration.TotalSeconds:0} s each: {Readers} readers of one key, each read then a 1 ms pause; entry lifetime 1 s, data call 50 ms");
        Console.WriteLine("| cache | reads | data calls | p50 (ms) | p99 (ms) | worst (ms) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        using var caches = new Caches();
        foreach ((string name, Func<RateSource, Func<ValueTask<string>>> reader) in Variants(redis.Configuration, caches))
        {
            var source = new RateSource();
            (long reads, double p50, double p99, double worst) = Measure(reader(source));
            Console.WriteLine($"| {name} | {reads:N0} | {source.Calls:N0} | {p50:F3} | {p99:F3} | {worst:F1} |");
        }
    }

    private static IEnumerable<(string, Func<RateSource, Func<ValueTask<string>>>)> Variants(string redis, Caches caches)
    {
        yield return ("CacheGen", source =>
        {
            var desk = new ExpiringRateDesk(source, caches.CacheGen(redis, o => o.KeyPrefix = "cg-plain"));
            return () => new ValueTask<string>(desk.GetAsync("EUR"));
        });
        yield return ("CacheGen, RefreshAheadPercent = 80", source =>
        {
            var desk = new ExpiringRateDesk(source, caches.CacheGen(redis, o => o.KeyPrefix = "cg-refresh"));
            return () => new ValueTask<string>(desk.GetRefreshedAheadAsync("EUR"));
        });
        yield return ("FusionCache", source => FusionReader(redis, source, "fc-plain:", eager: null));
        yield return ("FusionCache, EagerRefreshThreshold = 0.8", source => FusionReader(redis, source, "fc-eager:", eager: 0.8f));
    }

    private static Func<ValueTask<string>> FusionReader(string redis, RateSource source, string prefix, float? eager)
    {
        var services = new ServiceCollection();
        services.AddFusionCache()
            .WithDefaultEntryOptions(new FusionCacheEntryOptions { Duration = Lifetime, EagerRefreshThreshold = eager })
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redis, InstanceName = prefix }));
        // Not disposed before the process ends: the run is short, and the readers are done when the next variant starts.
        IFusionCache cache = services.BuildServiceProvider().GetRequiredService<IFusionCache>();
        return () => cache.GetOrSetAsync<string>("rate:EUR", (_, ct) => source.LoadAsync(ct));
    }

    private static (long Reads, double P50, double P99, double Worst) Measure(Func<ValueTask<string>> read)
    {
        read().AsTask().GetAwaiter().GetResult();
        var stop = Stopwatch.StartNew();
        var latencies = new List<double>[Readers];
        Task[] readers = [.. Enumerable.Range(0, Readers).Select(r => Task.Run(async () =>
        {
            var mine = latencies[r] = new List<double>(100_000);
            while (stop.Elapsed < Duration)
            {
                long started = Stopwatch.GetTimestamp();
                await read();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                await Task.Delay(1);
            }
        }))];
        Task.WaitAll(readers);
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        return (all.Length, all[all.Length / 2], all[(int)(all.Length * 0.99)], all[^1]);
    }
}

/// <summary>The rate source: 50 ms per call, counted.</summary>
public sealed class RateSource
{
    private long _calls;

    public long Calls => Interlocked.Read(ref _calls);

    public async Task<string> LoadAsync(CancellationToken ct)
    {
        await Task.Delay(50, ct);
        return "rate " + Interlocked.Increment(ref _calls);
    }
}

public sealed partial class ExpiringRateDesk(RateSource source, HybridCache cache)
{
    [Cached("rates", Key = "rate:{currency}", TtlSeconds = 1)]
    public partial Task<string> GetAsync(string currency);
    private Task<string> GetCoreAsync(string currency) => source.LoadAsync(CancellationToken.None);

    [Cached("rates", Key = "ahead:{currency}", TtlSeconds = 1, RefreshAheadPercent = 80)]
    public partial Task<string> GetRefreshedAheadAsync(string currency);
    private Task<string> GetRefreshedAheadCoreAsync(string currency) => source.LoadAsync(CancellationToken.None);
}

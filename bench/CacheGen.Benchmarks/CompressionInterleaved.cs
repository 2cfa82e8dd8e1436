using System.Diagnostics;
using System.Text.Json;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Benchmarks;

/// <summary>
/// <c>--scenario compression-interleaved</c>: the L2 hits of <see cref="CompressionBenchmarks"/>, plain and compressed
/// taken in turns (100 calls each, 30 rounds, medians of the rounds' means), so that a machine whose load drifts
/// during the run (other builds on the same cores) weighs on both alike. Sizes from 100 to 1000 posts.
/// </summary>
public static class CompressionInterleaved
{
    private const int Rounds = 30, CallsPerRound = 100;
    private static readonly HybridCacheEntryOptions L2Only = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private static readonly string[] Tags = ["items"];

    public static void Run() => RunAsync().GetAwaiter().GetResult();

    private static async Task RunAsync()
    {
        using var redis = RedisServer.Start();
        using var caches = new Caches();
        HybridCache plain = caches.CacheGen(redis.Configuration, o => Configure(o, "plain", int.MaxValue));
        HybridCache compressed = caches.CacheGen(redis.Configuration, o => Configure(o, "lz4", 0));
        Console.WriteLine($"{"value",-22} {"bytes",8} {"plain µs",9} {"lz4 µs",9} {"lz4/plain",9}");
        foreach (int count in new[] { 100, 200, 400, 1000 })
        {
            JsonPayload payload = JsonPayload.FromUtf8(PayloadCodecBenchmarks.PostListJson(count));
            await MeasureAsync(plain, compressed, $"payload, {count} posts", payload.Utf8Json.Length, "payload", payload);
        }
        List<BenchPost> posts = [.. Enumerable.Range(1, 1000).Select(i => new BenchPost(i, $"Test Post{i}", $"This is the test post {i}"))];
        await MeasureAsync(plain, compressed, "records, 1000 posts", JsonSerializer.SerializeToUtf8Bytes(posts, JsonSerializerOptions.Web).Length, "records", posts);
    }

    private static void Configure(CacheGen.Redis.CacheGenOptions options, string prefix, int compressAbove)
    {
        options.KeyPrefix = prefix;
        options.CompressAboveBytes = compressAbove;
        // A slow read on a busy machine would be a miss; a miss is not what is measured.
        options.RedisTimeout = TimeSpan.FromSeconds(5);
        options.RedisStallTimeout = TimeSpan.FromSeconds(5);
    }

    private static async Task MeasureAsync<T>(HybridCache plain, HybridCache compressed, string name, int bytes, string key, T value)
    {
        await plain.SetAsync(key, value, tags: Tags);
        await compressed.SetAsync(key, value, tags: Tags);
        for (int i = 0; i < 3; i++)
        {
            await RoundAsync<T>(plain, key);
            await RoundAsync<T>(compressed, key);
        }
        var plainMeans = new List<double>();
        var compressedMeans = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            plainMeans.Add(await RoundAsync<T>(plain, key));
            compressedMeans.Add(await RoundAsync<T>(compressed, key));
        }
        double p = Median(plainMeans), c = Median(compressedMeans);
        Console.WriteLine($"{name,-22} {bytes,8} {p,9:F0} {c,9:F0} {c / p,9:F2}");
    }

    private static async Task<double> RoundAsync<T>(HybridCache cache, string key)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < CallsPerRound; i++)
            await cache.GetOrCreateAsync<T>(key, static _ => throw new InvalidOperationException("L2 miss: the scenario measured a miss"), L2Only, Tags);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / CallsPerRound;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}

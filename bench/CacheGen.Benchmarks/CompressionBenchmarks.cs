using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace CacheGen.Benchmarks;

/// <summary>
/// CompressAboveBytes on an L2 hit (L1 off, so every call is a Redis GET, a decompression when stored compressed, and
/// the read): the same posts stored plain and LZ4-compressed by two CacheGen caches on one redis-server, as a list of
/// records (deserialized per hit) and as a <see cref="JsonPayload"/> (served as its bytes, as the sample's /posts/ is).
/// Posts as the sample seeds them: 100 are about 8 KB of JSON, 1000 the 82 KB of its /posts/ body. The stored sizes
/// are printed at setup. Run: <c>dotnet run -c Release -- --filter '*CompressionBenchmarks*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class CompressionBenchmarks
{
    private static readonly HybridCacheEntryOptions L2Only = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private static readonly string[] Tags = ["items"];

    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private HybridCache _plain = null!, _compressed = null!;

    [Params(100, 1000)]
    public int Posts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        // Generous Redis bounds: on a busy machine a slow read would be a miss, and a miss is not what is measured here.
        _plain = _caches.CacheGen(_redis.Configuration, o => { o.KeyPrefix = "plain"; o.CompressAboveBytes = int.MaxValue; Patient(o); });
        _compressed = _caches.CacheGen(_redis.Configuration, o => { o.KeyPrefix = "lz4"; o.CompressAboveBytes = 0; Patient(o); });
        // The sample's seed (addpost's "Test Post{i}"), and its /posts/ body for the payload.
        List<BenchPost> posts = [.. Enumerable.Range(1, Posts).Select(i => new BenchPost(i, $"Test Post{i}", $"This is the test post {i}"))];
        JsonPayload payload = JsonPayload.FromUtf8(PayloadCodecBenchmarks.PostListJson(Posts));
        foreach (HybridCache cache in new[] { _plain, _compressed })
        {
            cache.SetAsync("posts", posts, tags: Tags).AsTask().GetAwaiter().GetResult();
            cache.SetAsync("payload", payload, tags: Tags).AsTask().GetAwaiter().GetResult();
            if (Get<List<BenchPost>>(cache, "posts").AsTask().GetAwaiter().GetResult().Count != Posts)
                throw new InvalidOperationException("wrong value from L2");
        }
        using var connection = ConnectionMultiplexer.Connect(_redis.Configuration);
        IDatabase db = connection.GetDatabase();
        Console.WriteLine($"// {Posts} posts: records stored plain {db.StringLength("plain:1:posts")} bytes, compressed {db.StringLength("lz4:1:posts")}; "
            + $"payload {payload.Utf8Json.Length} bytes stored plain {db.StringLength("plain:1:payload")}, compressed {db.StringLength("lz4:1:payload")}");
    }

    private static void Patient(CacheGen.Redis.CacheGenOptions options)
    {
        options.RedisTimeout = TimeSpan.FromSeconds(5);
        options.RedisStallTimeout = TimeSpan.FromSeconds(5);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    private static ValueTask<T> Get<T>(HybridCache cache, string key) =>
        cache.GetOrCreateAsync<T>(key, static _ => throw new InvalidOperationException("L2 miss: the benchmark measured a miss"), L2Only, Tags);

    [Benchmark(Baseline = true), BenchmarkCategory("records")] public ValueTask<List<BenchPost>> Plain_Records() => Get<List<BenchPost>>(_plain, "posts");
    [Benchmark, BenchmarkCategory("records")] public ValueTask<List<BenchPost>> Compressed_Records() => Get<List<BenchPost>>(_compressed, "posts");

    [Benchmark(Baseline = true), BenchmarkCategory("payload")] public ValueTask<JsonPayload> Plain_Payload() => Get<JsonPayload>(_plain, "payload");
    [Benchmark, BenchmarkCategory("payload")] public ValueTask<JsonPayload> Compressed_Payload() => Get<JsonPayload>(_compressed, "payload");
}

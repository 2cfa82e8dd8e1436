using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CacheGen.Testing;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace CacheGen.Benchmarks;

/// <summary>(a) The generator's overhead: its wrapper vs the same L1 hit written by hand, on one CacheGen cache.</summary>
[MemoryDiagnoser]
public class WrapperBenchmarks
{
    private readonly Caches _caches = new();
    private ItemService _service = null!;

    [GlobalSetup]
    public void Setup()
    {
        _service = new ItemService(_caches.CacheGen(redis: null));
        _service.GetNumberAsync(42).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _caches.Dispose();

    [Benchmark(Baseline = true, Description = "hand-written (stack key)")]
    public ValueTask<int> HandWritten() => _service.GetNumberByHandAsync(42);

    [Benchmark(Description = "hand-written (interpolated key)")]
    public ValueTask<int> HandWrittenStringKey() => _service.GetNumberByHandStringKeyAsync(42);

    [Benchmark(Description = "generated")]
    public ValueTask<int> Generated() => _service.GetNumberAsync(42);
}

/// <summary>
/// (b) An L1 hit through the generated wrapper of a one-int-argument method, on each implementation. L2 = none: the
/// cache is in-process only; L2 = redis: Redis is configured behind it (the entry is in L1, so a hit should not touch
/// Redis, but the hit path may differ). An int, a sealed record, and a sealed record marked [ImmutableObject(true)]:
/// a reference type is where copies (a deserialization per hit) show.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class L1HitBenchmarks
{
    private readonly Caches _caches = new();
    private RedisServer? _redis;
    private ItemService _cacheGen = null!, _microsoft = null!, _fusion = null!;

    [Params("none", "redis")]
    public string L2 { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        _redis = L2 == "redis" ? RedisServer.Start() : null;
        string? redis = _redis?.Configuration;
        _cacheGen = new ItemService(_caches.CacheGen(redis));
        _microsoft = new ItemService(_caches.Microsoft(redis));
        _fusion = new ItemService(_caches.Fusion(redis));
        foreach (ItemService service in new[] { _cacheGen, _microsoft, _fusion })
        {
            service.GetNumberAsync(42).AsTask().GetAwaiter().GetResult();
            service.GetItemAsync(42).AsTask().GetAwaiter().GetResult();
            service.GetImmutableItemAsync(42).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis?.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("int")] public ValueTask<int> CacheGen_Int() => _cacheGen.GetNumberAsync(42);
    [Benchmark, BenchmarkCategory("int")] public ValueTask<int> Microsoft_Int() => _microsoft.GetNumberAsync(42);
    [Benchmark, BenchmarkCategory("int")] public ValueTask<int> Fusion_Int() => _fusion.GetNumberAsync(42);

    [Benchmark(Baseline = true), BenchmarkCategory("record")] public ValueTask<Item> CacheGen_Record() => _cacheGen.GetItemAsync(42);
    [Benchmark, BenchmarkCategory("record")] public ValueTask<Item> Microsoft_Record() => _microsoft.GetItemAsync(42);
    [Benchmark, BenchmarkCategory("record")] public ValueTask<Item> Fusion_Record() => _fusion.GetItemAsync(42);

    [Benchmark(Baseline = true), BenchmarkCategory("immutable record")] public ValueTask<ImmutableItem> CacheGen_Immutable() => _cacheGen.GetImmutableItemAsync(42);
    [Benchmark, BenchmarkCategory("immutable record")] public ValueTask<ImmutableItem> Microsoft_Immutable() => _microsoft.GetImmutableItemAsync(42);
    [Benchmark, BenchmarkCategory("immutable record")] public ValueTask<ImmutableItem> Fusion_Immutable() => _fusion.GetImmutableItemAsync(42);
}

/// <summary>
/// (c) An L2 hit: L1 off for the read (<see cref="HybridCacheEntryFlags.DisableLocalCache"/>), so every call is a Redis
/// GET plus deserialization inside the cache, against the same done by hand with StackExchange.Redis and
/// System.Text.Json. One small record, and 1000 posts (about the sample's /posts/ body).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class L2HitBenchmarks
{
    private static readonly HybridCacheEntryOptions L2Only = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string[] Tags = ["items"];

    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _connection = null!;
    private IDatabase _db = null!;
    private HybridCache _cacheGen = null!, _microsoft = null!, _fusion = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        _connection = ConnectionMultiplexer.Connect(_redis.Configuration);
        _db = _connection.GetDatabase();
        _cacheGen = _caches.CacheGen(_redis.Configuration);
        _microsoft = _caches.Microsoft(_redis.Configuration);
        _fusion = _caches.Fusion(_redis.Configuration);

        Item item = new(42, "item 42");
        List<BenchPost> posts = Payloads.Posts(1000);
        _db.StringSet("raw:item", JsonSerializer.SerializeToUtf8Bytes(item, Json));
        _db.StringSet("raw:posts", JsonSerializer.SerializeToUtf8Bytes(posts, Json));
        foreach (HybridCache cache in new[] { _cacheGen, _microsoft, _fusion })
        {
            cache.SetAsync("item", item, tags: Tags).AsTask().GetAwaiter().GetResult();
            cache.SetAsync("posts", posts, tags: Tags).AsTask().GetAwaiter().GetResult();
            // A read that would run the factory is a miss, not an L2 hit: refuse to measure that.
            if (Get<Item>(cache, "item").AsTask().GetAwaiter().GetResult().Id != 42
                || Get<List<BenchPost>>(cache, "posts").AsTask().GetAwaiter().GetResult().Count != 1000)
                throw new InvalidOperationException("wrong value from L2");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _connection.Dispose();
        _redis.Dispose();
    }

    private static ValueTask<T> Get<T>(HybridCache cache, string key) =>
        cache.GetOrCreateAsync<T>(key, static _ => throw new InvalidOperationException("L2 miss: the benchmark measured a miss"), L2Only, Tags);

    private async ValueTask<T> Raw<T>(string key) =>
        JsonSerializer.Deserialize<T>((byte[])(await _db.StringGetAsync(key))!, Json)!;

    [Benchmark(Baseline = true), BenchmarkCategory("item")] public ValueTask<Item> Raw_Item() => Raw<Item>("raw:item");
    [Benchmark, BenchmarkCategory("item")] public ValueTask<Item> CacheGen_Item() => Get<Item>(_cacheGen, "item");
    [Benchmark, BenchmarkCategory("item")] public ValueTask<Item> Microsoft_Item() => Get<Item>(_microsoft, "item");
    [Benchmark, BenchmarkCategory("item")] public ValueTask<Item> Fusion_Item() => Get<Item>(_fusion, "item");

    [Benchmark(Baseline = true), BenchmarkCategory("1000 posts")] public ValueTask<List<BenchPost>> Raw_Posts() => Raw<List<BenchPost>>("raw:posts");
    [Benchmark, BenchmarkCategory("1000 posts")] public ValueTask<List<BenchPost>> CacheGen_Posts() => Get<List<BenchPost>>(_cacheGen, "posts");
    [Benchmark, BenchmarkCategory("1000 posts")] public ValueTask<List<BenchPost>> Microsoft_Posts() => Get<List<BenchPost>>(_microsoft, "posts");
    [Benchmark, BenchmarkCategory("1000 posts")] public ValueTask<List<BenchPost>> Fusion_Posts() => Get<List<BenchPost>>(_fusion, "posts");
}

/// <summary>
/// (d) A miss and store: every call uses a new key, so the factory runs and the value is written to L1 and Redis.
/// </summary>
[MemoryDiagnoser]
public class MissBenchmarks
{
    private static readonly string[] Tags = ["items"];
    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private HybridCache _cacheGen = null!, _microsoft = null!, _fusion = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        _cacheGen = _caches.CacheGen(_redis.Configuration);
        _microsoft = _caches.Microsoft(_redis.Configuration);
        _fusion = _caches.Fusion(_redis.Configuration);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    private ValueTask<Item> Miss(HybridCache cache)
    {
        int id = Interlocked.Increment(ref _next);
        return cache.GetOrCreateAsync($"miss:{id}", id, static (id, _) => new ValueTask<Item>(new Item(id, "item")), tags: Tags);
    }

    [Benchmark(Baseline = true)] public ValueTask<Item> CacheGen() => Miss(_cacheGen);
    [Benchmark] public ValueTask<Item> Microsoft() => Miss(_microsoft);
    [Benchmark] public ValueTask<Item> Fusion() => Miss(_fusion);
}

/// <summary>
/// (e) Evicting a region of 1 or 100,000 entries through the generated [InvalidatesCache] wrapper, on CacheGen.Redis
/// with Redis. The region is refilled (L1 and Redis) before every single eviction, so each one has real work to do;
/// the refill is not timed.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class EvictionBenchmarks
{
    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private RegionService _service = null!;

    [Params(1, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        _service = new RegionService(_caches.CacheGen(_redis.Configuration));
    }

    [IterationSetup]
    public void Fill() => Prefill.Run(Entries, i => _service.GetAsync(i));

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    [Benchmark]
    public ValueTask<int> EvictRegion() => _service.ClearAsync();
}

/// <summary>Fills a cache before an eviction benchmark's iteration.</summary>
internal static class Prefill
{
    /// <summary>
    /// Calls <paramref name="get"/> for 0 .. <paramref name="count"/> - 1, 500 in flight at a time: StackExchange.Redis
    /// pipelines them, so 100,000 take a few seconds, not minutes.
    /// </summary>
    public static void Run(int count, Func<int, ValueTask<int>> get)
    {
        const int Batch = 500;
        var pending = new Task<int>[Math.Min(Batch, count)];
        for (int start = 0; start < count; start += Batch)
        {
            int batch = Math.Min(Batch, count - start);
            for (int i = 0; i < batch; i++)
                pending[i] = get(start + i).AsTask();
            Task.WaitAll(pending.AsSpan(0, batch));
        }
    }
}

internal static class Payloads
{
    /// <summary>Posts like the sample's seed: 1000 of them serialize to about the 82 KB of its /posts/ body.</summary>
    public static List<BenchPost> Posts(int count) =>
        Enumerable.Range(1, count).Select(i => new BenchPost(i, $"Post number {i}", $"This is the content of post number {i}, as addpost writes it.")).ToList();
}

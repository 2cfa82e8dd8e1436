using BenchmarkDotNet.Attributes;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Benchmarks;

/// <summary>
/// (f) 100 ids of which 10 miss, Redis only (L1 off, so every hit is a Redis read): CacheGen's batch read-through (one
/// MGET, one data call for the 10) against a loop of 100 single reads on CacheGen and on Microsoft's HybridCache (100
/// round trips, 10 data calls). The 90 warm ids are filled once; each invocation asks for 10 new ones.
/// </summary>
[MemoryDiagnoser]
public class BatchBenchmarks
{
    private const int Warm = 90;
    private const int Missed = 10;
    private static readonly HybridCacheEntryOptions RedisOnly = new() { Flags = HybridCacheEntryFlags.DisableLocalCache, Expiration = Caches.Lifetime };
    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private HybridCache _cacheGen = null!, _microsoft = null!;
    private int _next = 1_000_000;

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        _cacheGen = _caches.CacheGen(_redis.Configuration);
        _microsoft = _caches.Microsoft(_redis.Configuration);
        int[] warm = [.. Enumerable.Range(1, Warm)];
        BatchAsync(_cacheGen, warm).AsTask().GetAwaiter().GetResult();
        LoopAsync(_microsoft, warm).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    private int[] Ids()
    {
        int first = Interlocked.Add(ref _next, Missed) - Missed;
        return [.. Enumerable.Range(1, Warm), .. Enumerable.Range(first, Missed)];
    }

    private static string KeyOf(int id) => "batch:" + id;

    private static ValueTask<Dictionary<int, Item>> BatchAsync(HybridCache cache, int[] ids) =>
        cache.GetOrCreateManyAsync(ids, KeyOf,
            static (missed, _) => new ValueTask<IReadOnlyDictionary<int, Item>>(missed.ToDictionary(id => id, id => new Item(id, "item"))), RedisOnly);

    private static async Task<int> LoopAsync(HybridCache cache, int[] ids)
    {
        int found = 0;
        foreach (int id in ids)
        {
            Item item = await cache.GetOrCreateAsync(KeyOf(id), id, static (id, _) => new ValueTask<Item>(new Item(id, "item")), RedisOnly);
            found += item.Id == id ? 1 : 0;
        }
        return found;
    }

    [Benchmark(Baseline = true, Description = "CacheGen GetOrCreateManyAsync (1 batch)")]
    public async Task<int> CacheGen_Batch() => (await BatchAsync(_cacheGen, Ids())).Count;

    [Benchmark(Description = "CacheGen loop of 100 GetOrCreateAsync")]
    public Task<int> CacheGen_Loop() => LoopAsync(_cacheGen, Ids());

    [Benchmark(Description = "Microsoft HybridCache loop of 100 GetOrCreateAsync")]
    public Task<int> Microsoft_Loop() => LoopAsync(_microsoft, Ids());
}

/// <summary>
/// (g) A warm batch of 100 ids, every one in L1 (CacheGen with Redis behind it): the batch against a loop of 100 single
/// L1 hits. The batch should cost the hits plus its one dictionary.
/// </summary>
[MemoryDiagnoser]
public class BatchL1Benchmarks
{
    private static readonly int[] Ids = [.. Enumerable.Range(1, 100)];
    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private HybridCache _cacheGen = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        _cacheGen = _caches.CacheGen(_redis.Configuration);
        _cacheGen.GetOrCreateManyAsync(Ids, KeyOf, static (missed, _) =>
            new ValueTask<IReadOnlyDictionary<int, Item>>(missed.ToDictionary(id => id, id => new Item(id, "item")))).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    private static string KeyOf(int id) => "l1batch:" + id;

    [Benchmark(Baseline = true, Description = "loop of 100 L1 hits")]
    public async Task<int> Loop()
    {
        int found = 0;
        foreach (int id in Ids)
            found += (await _cacheGen.GetOrCreateAsync(KeyOf(id), id, static (id, _) => new ValueTask<Item>(new Item(id, "item")))).Id == id ? 1 : 0;
        return found;
    }

    [Benchmark(Description = "GetOrCreateManyAsync of 100 L1 hits")]
    public async Task<int> Batch() => (await _cacheGen.GetOrCreateManyAsync(Ids, KeyOf, static (missed, _) =>
        new ValueTask<IReadOnlyDictionary<int, Item>>(missed.ToDictionary(id => id, id => new Item(id, "item"))))).Count;
}

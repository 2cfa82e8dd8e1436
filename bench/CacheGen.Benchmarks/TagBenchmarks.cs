using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Benchmarks;

/// <summary>
/// (f) A hit on an entry with three tags against one with none (its region only; keys of the same length, since the key's
/// length alone moves an in-process hit by a few ns), through generated wrappers on
/// CacheGen.Redis with Redis. <see cref="Level"/> = <c>L1</c>: an in-process hit; <c>L2</c>: L1 off
/// (<c>LocalCacheExpiration = 0</c>), so every call is a Redis read that also checks each tag's generation.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class TagHitBenchmarks
{
    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private TaggedService _service = null!;

    [Params("L1", "L2")]
    public string Level { get; set; } = "L1";

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        HybridCache cache = _caches.CacheGen(_redis.Configuration, o =>
        {
            if (Level == "L2")
                o.LocalCacheExpiration = TimeSpan.Zero;
        });
        _service = new TaggedService(cache);
        _service.UntaggedAsync(42).AsTask().GetAwaiter().GetResult();
        _service.TaggedAsync(42).AsTask().GetAwaiter().GetResult();
        int calls = _service.CoreCalls;
        _service.UntaggedAsync(42).AsTask().GetAwaiter().GetResult();
        _service.TaggedAsync(42).AsTask().GetAwaiter().GetResult();
        if (_service.CoreCalls != calls)
            throw new InvalidOperationException("a benchmarked call missed the cache");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true, Description = "no tags")]
    public ValueTask<int> Untagged() => _service.UntaggedAsync(42);

    [Benchmark(Description = "3 tags")]
    public ValueTask<int> Tagged() => _service.TaggedAsync(42);
}

/// <summary>
/// (g) Evicting a tag carried by 1 or 100,000 entries through the generated [InvalidatesCache(Tags = ...)] wrapper,
/// on CacheGen.Redis with Redis: the tag's counter moves on, whatever the number of entries. Refilled before every
/// single eviction (untimed), like <see cref="EvictionBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class TagEvictionBenchmarks
{
    private readonly Caches _caches = new();
    private RedisServer _redis = null!;
    private TaggedService _service = null!;

    [Params(1, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        _service = new TaggedService(_caches.CacheGen(_redis.Configuration));
    }

    [IterationSetup]
    public void Fill() => Prefill.Run(Entries, i => _service.InShelfAsync(i, shelf: 7));

    [GlobalCleanup]
    public void Cleanup()
    {
        _caches.Dispose();
        _redis.Dispose();
    }

    [Benchmark]
    public ValueTask EvictTag() => _service.RestockAsync(7);
}

public sealed partial class TaggedService(HybridCache cache)
{
    private int _coreCalls;

    public int CoreCalls => _coreCalls;

    [Cached("items", Key = "bare:{id}")]
    public partial ValueTask<int> UntaggedAsync(int id);
    private ValueTask<int> UntaggedCoreAsync(int id) => new(Interlocked.Increment(ref _coreCalls) + id);

    [Cached("items", Key = "tags:{id}", Tags = ["item:{id}", "group:{id}", "catalog"])]
    public partial ValueTask<int> TaggedAsync(int id);
    private ValueTask<int> TaggedCoreAsync(int id) => new(Interlocked.Increment(ref _coreCalls) + id);

    [Cached("items", Key = "shelved:{id}", Tags = ["shelf:{shelf}"])]
    public partial ValueTask<int> InShelfAsync(int id, int shelf);
    private ValueTask<int> InShelfCoreAsync(int id, int shelf) => new(id);

    [InvalidatesCache(Tags = ["shelf:{shelf}"])]
    public partial ValueTask RestockAsync(int shelf);
    private ValueTask RestockCoreAsync(int shelf) => ValueTask.CompletedTask;
}

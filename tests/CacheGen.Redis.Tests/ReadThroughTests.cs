using System.Diagnostics;
using System.Diagnostics.Metrics;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

public sealed class ReadThroughTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Miss_then_hit_from_the_in_process_cache()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<Post>(n => new Post(5, "Title " + n, "Content"));

        Post first = await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factory, tags: Entry.Posts);
        Post second = await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factory, tags: Entry.Posts);

        Assert.Equal(1, factory.Calls);
        Assert.Equal(first, second);
        Assert.Equal("Title 1", second.Title);
    }

    [Fact]
    public async Task Miss_then_hit_from_redis_with_the_in_process_cache_disabled()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<Post>(n => new Post(5, "Title " + n, "Content"));

        await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factory, Entry.NoLocal, Entry.Posts);
        Post second = await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factory, Entry.NoLocal, Entry.Posts);

        Assert.Equal(1, factory.Calls);
        Assert.Equal("Title 1", second.Title);
        Assert.Equal(1, await redis.Database.KeyExistsAsync(Entry.RedisKey(key)) ? 1 : 0);
    }

    [Fact]
    public async Task Another_instance_gets_a_hit_from_redis_without_running_its_factory()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var factoryA = new CountingFactory<Post>(n => new Post(7, "from A", "Content"));
        var factoryB = new CountingFactory<Post>(n => new Post(7, "from B", "Content"));

        await a.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factoryA, tags: Entry.Posts);
        await a.SettledAsync();
        Post fromB = await b.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factoryB, tags: Entry.Posts);

        Assert.Equal(1, factoryA.Calls);
        Assert.Equal(0, factoryB.Calls);
        Assert.Equal("from A", fromB.Title);
    }

    [Fact]
    public async Task Untagged_entries_are_cached_in_redis_too()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = "untagged:" + Guid.NewGuid().ToString("N");

        await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("value"));
        await a.SettledAsync();
        string fromB = await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("other"));

        Assert.Equal("value", fromB);
    }

    [Fact]
    public async Task SetAsync_writes_through_to_redis()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        await a.Cache.SetAsync(key, new Post(1, "set", "c"), tags: Entry.Posts);
        var factory = new CountingFactory<Post>(_ => new Post(1, "computed", "c"));
        Post fromB = await b.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<Post>>)factory, tags: Entry.Posts);

        Assert.Equal(0, factory.Calls);
        Assert.Equal("set", fromB.Title);
    }

    [Fact]
    public async Task Keys_read_like_django_in_the_configured_database_and_nowhere_else()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        await instance.Cache.GetOrCreateAsync("{posts}:post:5", _ => ValueTask.FromResult(new Post(5, "t", "c")), tags: Entry.Posts);
        await instance.SettledAsync();

        // A plain client on database 1 sees the entry under KEY_PREFIX:VERSION:KEY and the region's generation.
        Assert.True(await redis.Database.KeyExistsAsync("example:1:{posts}:post:5"));
        Assert.True(await redis.Database.KeyExistsAsync("example:1:#gen:{posts}"));
        Assert.Contains("example:1:{posts}:post:5", redis.Cli("-n", "1", "KEYS", "example:1:*").Split('\n'));
        Assert.Equal(0, redis.DatabaseSize(0));
    }

    [Fact]
    public async Task An_empty_prefix_gives_a_leading_colon_like_django()
    {
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.KeyPrefix = "");
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(1), tags: Entry.Posts);
        await instance.SettledAsync();

        Assert.True(await redis.Database.KeyExistsAsync(":1:" + key));
        Assert.True(await redis.Database.KeyExistsAsync(":1:#gen:{posts}"));
    }

    [Fact]
    public async Task The_key_version_is_part_of_every_key()
    {
        await using var v2 = CacheInstance.Create(redis.Configuration, o => o.KeyVersion = 2);
        await using var v1 = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await v2.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v2"), tags: Entry.Posts);
        await v2.SettledAsync();

        Assert.True(await redis.Database.KeyExistsAsync("example:2:" + key));
        Assert.Equal("v1", await v1.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v1"), tags: Entry.Posts));
    }

    [Fact]
    public async Task Every_entry_carries_the_entry_expiration_as_its_ttl_and_generations_carry_none()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string shortKey = Entry.UniqueKey();
        string defaultKey = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync(shortKey, _ => ValueTask.FromResult(1),
            new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(60) }, Entry.Posts);
        await instance.Cache.GetOrCreateAsync(defaultKey, _ => ValueTask.FromResult(1), tags: Entry.Posts);
        await instance.SettledAsync();

        long shortTtl = long.Parse(redis.Cli("-n", "1", "PTTL", Entry.RedisKey(shortKey)));
        long defaultTtl = long.Parse(redis.Cli("-n", "1", "PTTL", Entry.RedisKey(defaultKey)));
        Assert.InRange(shortTtl, 55_000, 60_000);
        Assert.InRange(defaultTtl, 295_000, 300_000);
        // The generation lives at least as long as the longest entry written under it (TagLifetimeTests has the rest).
        Assert.InRange(long.Parse(redis.Cli("-n", "1", "PTTL", "example:1:#gen:{posts}")), 295_000, long.MaxValue);
    }

    [Fact]
    public async Task An_entry_with_a_one_second_expiration_is_gone_from_redis_soon_after()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(1),
            new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(1) }, Entry.Posts);
        await instance.SettledAsync();
        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));

        var clock = Stopwatch.StartNew();
        while (await redis.Database.KeyExistsAsync(Entry.RedisKey(key)) && clock.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(50);

        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task The_in_process_copy_expires_after_the_local_lifetime_and_the_next_read_hits_redis()
    {
        var time = new FakeTimeProvider();
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.FromSeconds(5), time);
        using var hits = new HitListener(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<int>(n => n);

        await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<int>>)factory, tags: Entry.Posts);
        time.Advance(TimeSpan.FromSeconds(4));
        await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<int>>)factory, tags: Entry.Posts);
        Assert.Equal((1, 0), (hits.Local, hits.Redis));

        time.Advance(TimeSpan.FromSeconds(2));
        int value = await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<int>>)factory, tags: Entry.Posts);

        Assert.Equal(1, value);
        Assert.Equal(1, factory.Calls);
        Assert.Equal((1, 1), (hits.Local, hits.Redis));
        Assert.Equal(1, hits.Misses);
    }

    [Fact]
    public async Task An_in_process_hit_with_a_span_key_allocates_nothing()
    {
        // Logging at Information, as an app runs: at Debug each hit logs its key, a string made from the span.
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new LogSink()));
        services.AddCacheGen(o => { o.Redis = redis.Configuration; o.KeyPrefix = "example"; o.RedisTimeout = TimeSpan.FromSeconds(5); });
        await using ServiceProvider provider = services.BuildServiceProvider();
        string key = Entry.UniqueKey();
        HybridCache cache = provider.GetRequiredService<HybridCache>();
        static ValueTask<int> Factory(int state, CancellationToken _) => ValueTask.FromResult(state);
        await cache.GetOrCreateAsync(key.AsSpan(), 42, Factory, tags: Entry.Posts);

        char[] keyChars = key.ToCharArray();
        for (int i = 0; i < 10; i++)
            await cache.GetOrCreateAsync(keyChars.AsSpan(), 0, Factory, tags: Entry.Posts);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ValueTask<int> hit = cache.GetOrCreateAsync(keyChars.AsSpan(), 0, Factory, tags: Entry.Posts);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(hit.IsCompletedSuccessfully);
        Assert.Equal(42, await hit);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task DisableUnderlyingData_returns_default_on_a_miss_and_the_cached_value_on_a_hit()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var cacheOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        var factory = new CountingFactory<string>(_ => "computed");

        Assert.Null(await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, cacheOnly, Entry.Posts));
        await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, tags: Entry.Posts);
        Assert.Equal("computed", await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, cacheOnly, Entry.Posts));
        Assert.Equal(1, factory.Calls);
    }

    [Fact]
    public async Task A_mutable_value_is_a_new_instance_on_every_hit()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new MutablePost { Id = 1, Title = "original" }), tags: Entry.Posts);

        MutablePost first = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new MutablePost()), tags: Entry.Posts);
        first.Title = "mutated by a caller";
        MutablePost second = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new MutablePost()), tags: Entry.Posts);

        Assert.NotSame(first, second);
        Assert.Equal("original", second.Title);
    }

    [Fact]
    public async Task An_immutable_value_is_shared_between_hits()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        ImmutablePost created = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new ImmutablePost(1, "t")), tags: Entry.Posts);

        ImmutablePost first = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new ImmutablePost(2, "x")), tags: Entry.Posts);
        ImmutablePost second = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new ImmutablePost(2, "x")), tags: Entry.Posts);

        Assert.Same(created, first);
        Assert.Same(first, second);
    }

    /// <summary>Counts the CacheGen meter's hits by level and its misses, for one cache instance.</summary>
    private sealed class HitListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private int _local;
        private int _redis;
        private int _misses;

        public HitListener(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "cachegen.misses")
                {
                    Interlocked.Add(ref _misses, (int)value);
                    return;
                }
                if (instrument.Name != "cachegen.hits")
                    return;
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag is { Key: "level", Value: "l1" })
                        Interlocked.Add(ref _local, (int)value);
                    else if (tag is { Key: "level", Value: "l2" })
                        Interlocked.Add(ref _redis, (int)value);
                }
            });
            _listener.Start();
        }

        public int Local => Volatile.Read(ref _local);

        public int Redis => Volatile.Read(ref _redis);

        public int Misses => Volatile.Read(ref _misses);

        public void Dispose() => _listener.Dispose();
    }
}

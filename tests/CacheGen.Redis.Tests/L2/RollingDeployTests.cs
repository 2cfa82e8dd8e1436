using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

/// <summary>
/// What an instance meets in Redis during a rolling deploy: entries a newer CacheGen wrote (misses it never overwrites),
/// and generation keys an earlier release left without a TTL (given one, so they expire).
/// </summary>
public sealed class RollingDeployTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    /// <summary>A well-formed value envelope of the region's current generations, with the format version of the next release.</summary>
    private async Task<byte[]> NewerEnvelopeAsync(CacheInstance instance, string key)
    {
        await instance.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await instance.SettledAsync();
        byte[] newer = TestEnvelopes.Value(new Post(1, "written by the next release", "c"), key, await TestEnvelopes.PostsGenerationsAsync(redis.Database));
        newer[0] = Envelope.ValueVersion + 1;
        return newer;
    }

    [Fact]
    public async Task An_entry_in_a_newer_format_is_a_quiet_miss_that_is_never_overwritten()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        byte[] newer = await NewerEnvelopeAsync(instance, key);
        await redis.Database.StringSetAsync(Entry.RedisKey(key), newer, TimeSpan.FromMinutes(5));

        var factory = new CountingFactory<Post>(n => new Post(n, "from the data", "c"));
        Post first = await instance.Cache.GetOrCreateAsync(key, factory.Invoke, Entry.NoLocal, Entry.Posts);
        await instance.SettledAsync();
        Post second = await instance.Cache.GetOrCreateAsync(key, factory.Invoke, Entry.NoLocal, Entry.Posts);
        await instance.SettledAsync();
        await instance.Cache.SetAsync(key, new Post(9, "set", "c"), Entry.NoLocal, Entry.Posts);

        // The data call ran each time and its value came back; the newer entry is still there, byte for byte.
        Assert.Equal((1, 2), (first.Id, second.Id));
        Assert.Equal(2, factory.Calls);
        Assert.Equal(newer, (byte[]?)await redis.Database.StringGetAsync(Entry.RedisKey(key)));
        // Not corrupt, and no stale write rejected: nothing to warn about.
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal(0, metrics.Sum("cachegen.corrupt_entries"));

        // An eviction still wins over it: the key is tombstoned, and the next fill is stored.
        await instance.Cache.RemoveAsync(key);
        Assert.Equal(3, (await instance.Cache.GetOrCreateAsync(key, factory.Invoke, Entry.NoLocal, Entry.Posts)).Id);
        await instance.SettledAsync();
        Assert.Equal(3, (await instance.Cache.GetOrCreateAsync(key, factory.Invoke, Entry.NoLocal, Entry.Posts)).Id);
    }

    [Fact]
    public async Task Bytes_that_are_not_a_cachegen_format_are_still_replaced()
    {
        // The rule keeps only format versions (a first byte below 0x20): text someone else wrote is replaced as before.
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await redis.Database.StringSetAsync(Entry.RedisKey(key), "{\"id\":1}", TimeSpan.FromMinutes(5));

        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(1, "fresh", "c")), Entry.NoLocal, Entry.Posts);
        await instance.SettledAsync();

        byte[] stored = (byte[])(await redis.Database.StringGetAsync(Entry.RedisKey(key)))!;
        Assert.Equal(Envelope.ValueVersion, stored[0]);
    }

    [Fact]
    public async Task Generation_keys_of_an_earlier_release_without_a_ttl_get_one()
    {
        // Before internal keys started with '#', a region's counter was {prefix}:{version}:gen:{region}, without a TTL.
        string prefix = "legacy" + Guid.NewGuid().ToString("N");
        string generation = prefix + ":1:gen:{posts}", other = prefix + ":1:gen:{notacounter}";
        await redis.Database.StringSetAsync(generation, "17");
        await redis.Database.StringSetAsync(other, "some text");
        var lifetime = TimeSpan.FromMinutes(3);

        await using var instance = CacheInstance.Create(redis.Configuration, o => { o.KeyPrefix = prefix; o.DefaultExpiration = lifetime; });
        await instance.Cache.GetOrCreateAsync("{posts}:1", _ => ValueTask.FromResult(1), tags: Entry.Posts);

        await Eventually.Until(async () => await redis.Database.KeyTimeToLiveAsync(generation) is not null, "the old generation key to get a TTL");
        Assert.InRange((await redis.Database.KeyTimeToLiveAsync(generation))!.Value, TimeSpan.FromMinutes(2), lifetime);
        // Its value is left as it was (an old instance still running keeps using it), and what is not a counter is not touched.
        Assert.Equal("17", (string?)await redis.Database.StringGetAsync(generation));
        Assert.Null(await redis.Database.KeyTimeToLiveAsync(other));
    }

    public sealed record PostBefore(int Id, string Title);

    public sealed record PostAfter(int Id, string Title, string Author);

    // The same method in two builds: only the fingerprint of its value type differs. No in-process copies, so every read
    // is Redis's answer.
    private static readonly HybridCacheEntryOptions RedisOnly = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private static readonly CachedMethod Before = new("Blog.PostService.GetAsync", "posts", RedisOnly) { Shape = "1111111111111111" };
    private static readonly CachedMethod After = new("Blog.PostService.GetAsync", "posts", RedisOnly) { Shape = "2222222222222222" };

    [Fact]
    public async Task Two_shapes_of_a_type_keep_an_entry_each_and_every_eviction_reaches_both()
    {
        await using var oldBuild = CacheInstance.Create(redis.Configuration);
        await using var newBuild = CacheInstance.Create(redis.Configuration);
        using var oldMetrics = new MetricsRecorder(oldBuild.Hooks.Meter);
        using var newMetrics = new MetricsRecorder(newBuild.Hooks.Meter);
        string key = Entry.UniqueKey();
        var before = new CountingFactory<PostBefore>(n => new PostBefore(n, "before"));
        var after = new CountingFactory<PostAfter>(n => new PostAfter(n, "after", "ann"));
        async Task<(PostBefore Old, PostAfter New)> ReadBothAsync()
        {
            PostBefore old = await ((IMethodCache)oldBuild.Cache).GetOrCreateAsync(Before, key, before, static (f, ct) => f.Invoke(ct), null, unless: null, default);
            await oldBuild.SettledAsync();
            PostAfter @new = await ((IMethodCache)newBuild.Cache).GetOrCreateAsync(After, key, after, static (f, ct) => f.Invoke(ct), null, unless: null, default);
            await newBuild.SettledAsync();
            return (old, @new);
        }

        // Alternating reads: each build fills once, then both hit, each with a value of its own shape.
        for (int i = 0; i < 5; i++)
        {
            (PostBefore old, PostAfter @new) = await ReadBothAsync();
            Assert.Equal(("before", 1), (old.Title, old.Id));
            Assert.Equal(("after", "ann", 1), (@new.Title, @new.Author, @new.Id));
        }
        Assert.Equal((1, 1), (before.Calls, after.Calls));

        // Every kind of eviction, from either build, reaches the entries of both shapes.
        var evictions = new (string Kind, Func<ValueTask> Evict)[]
        {
            ("key from the old build", () => oldBuild.Cache.RemoveAsync(key)),
            ("key from the new build", () => newBuild.Cache.RemoveAsync(key)),
            ("region from the old build", () => oldBuild.Cache.RemoveByTagAsync("posts")),
            ("region from the new build", () => newBuild.Cache.RemoveByTagAsync("posts")),
            ("everything from the old build", () => oldBuild.Cache.RemoveByTagAsync("*")),
            ("everything from the new build", () => newBuild.Cache.RemoveByTagAsync("*")),
        };
        int expected = 1;
        foreach ((string kind, Func<ValueTask> evict) in evictions)
        {
            await evict();
            expected++;
            (PostBefore old, PostAfter @new) = await ReadBothAsync();
            Assert.True(old.Id == expected && @new.Id == expected, $"{kind}: read {old.Id} and {@new.Id}, expected both refilled as {expected}");
            (old, @new) = await ReadBothAsync();
            Assert.True(old.Id == expected && @new.Id == expected, $"{kind}: not cached again after the refill");
        }

        // Neither build took the other's entry for corrupt.
        Assert.Empty(oldBuild.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Empty(newBuild.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(0, oldMetrics.Sum("cachegen.corrupt_entries") + newMetrics.Sum("cachegen.corrupt_entries"));
    }
}

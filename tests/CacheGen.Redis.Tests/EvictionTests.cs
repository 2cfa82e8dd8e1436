using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

public sealed class EvictionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    [Fact]
    public async Task After_a_region_eviction_the_next_call_on_the_same_instance_runs_the_factory()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<string>(n => "v" + n);
        await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, tags: Entry.Posts);

        await instance.Cache.RemoveByTagAsync("posts");
        string after = await instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, tags: Entry.Posts);

        Assert.Equal(2, factory.Calls);
        Assert.Equal("v2", after);
    }

    [Fact]
    public async Task After_a_region_eviction_another_instance_runs_its_factory()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await a.Cache.GetOrCreateAsync(key, Returns("old"), tags: Entry.Posts);
        await a.SettledAsync();
        // B reads with its in-process cache disabled, so this shows what Redis says; that B's in-process copy goes
        // too is BackplaneTests' business.
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, Returns("unused"), Entry.NoLocal, Entry.Posts));

        await a.Cache.RemoveByTagAsync("posts");

        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, Entry.Posts));
    }

    [Fact]
    public async Task A_region_eviction_leaves_other_regions_alone()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string post = Entry.UniqueKey("posts");
        string user = Entry.UniqueKey("users");
        await a.Cache.GetOrCreateAsync(post, Returns("post"), tags: Entry.Posts);
        await a.Cache.GetOrCreateAsync(user, Returns("user"), tags: Entry.Users);
        await a.SettledAsync();

        await a.Cache.RemoveByTagAsync("posts");

        int calls = 0;
        Assert.Equal("user", await a.Cache.GetOrCreateAsync(user, Returns("recomputed", () => calls++), tags: Entry.Users));
        Assert.Equal("user", await b.Cache.GetOrCreateAsync(user, Returns("recomputed", () => calls++), Entry.NoLocal, Entry.Users));
        Assert.Equal(0, calls);
        Assert.Equal("recomputed", await b.Cache.GetOrCreateAsync(post, Returns("recomputed"), Entry.NoLocal, Entry.Posts));
    }

    [Fact]
    public async Task A_region_eviction_deletes_nothing_yet_every_entry_of_the_region_misses()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        const string region = "bulk";
        string[] tags = [region];
        string[] keys = Enumerable.Range(0, 1000).Select(i => $"{{{region}}}:post:{i}").ToArray();
        foreach (string[] chunk in keys.Chunk(100))
            await Task.WhenAll(chunk.Select(k => a.Cache.GetOrCreateAsync(k, Returns("old"), tags: tags).AsTask()));
        // The fills answered before their writes landed: count the keys once they have.
        await a.SettledAsync();
        long before = redis.DatabaseSize(1);
        Assert.True(before >= 1001);

        await a.Cache.RemoveByTagAsync(region);

        // O(1): no entry was touched (nothing deleted, no KEYS/SCAN), only the generation moved on.
        Assert.Equal(before, redis.DatabaseSize(1));
        int misses = 0;
        foreach (string[] chunk in keys.Chunk(100))
        {
            string[] values = await Task.WhenAll(chunk.Select(k =>
                b.Cache.GetOrCreateAsync(k, Returns("new", () => Interlocked.Increment(ref misses)), Entry.NoLocal, tags).AsTask()));
            Assert.All(values, v => Assert.Equal("new", v));
        }
        Assert.Equal(1000, misses);
    }

    [Fact]
    public async Task A_lost_generation_key_comes_back_at_a_value_no_old_entry_carries()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey("lost");
        await instance.Cache.GetOrCreateAsync(key, Returns("old"), tags: ["lost"]);
        await instance.SettledAsync();

        // As if maxmemory had evicted it: the next eviction starts the generation afresh at a random value.
        await redis.Database.KeyDeleteAsync("example:1:#gen:{lost}");
        await instance.Cache.RemoveByTagAsync("lost");

        Assert.True(await redis.Database.KeyExistsAsync("example:1:#gen:{lost}"));
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, ["lost"]));
    }

    [Fact]
    public async Task RemoveAsync_evicts_just_that_entry()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string evicted = Entry.UniqueKey();
        string kept = Entry.UniqueKey();
        await a.Cache.GetOrCreateAsync(evicted, Returns("old"), tags: Entry.Posts);
        await a.Cache.GetOrCreateAsync(kept, Returns("kept"), tags: Entry.Posts);
        await a.SettledAsync();

        await a.Cache.RemoveAsync(evicted);

        Assert.Equal("new", await a.Cache.GetOrCreateAsync(evicted, Returns("new"), tags: Entry.Posts));
        Assert.Equal("kept", await a.Cache.GetOrCreateAsync(kept, Returns("recomputed"), tags: Entry.Posts));
        Assert.Equal("kept", await b.Cache.GetOrCreateAsync(kept, Returns("recomputed"), Entry.NoLocal, Entry.Posts));
    }

    [Fact]
    public async Task RemoveAsync_leaves_a_tombstone_with_a_ttl_that_reads_as_a_miss()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await a.Cache.GetOrCreateAsync(key, Returns("old"), tags: Entry.Posts);
        await a.SettledAsync();

        await a.Cache.RemoveAsync(key);

        byte[]? tombstone = await redis.Database.StringGetAsync(Entry.RedisKey(key));
        Assert.NotNull(tombstone);
        Assert.Equal(9, tombstone.Length);
        Assert.Equal(2, tombstone[0]);
        Assert.InRange(long.Parse(redis.Cli("-n", "1", "PTTL", Entry.RedisKey(key))), 1, 300_000);
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, Entry.Posts));
    }

    [Fact]
    public async Task Evictions_work_on_every_tag_of_an_entry()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey("multi");
        string[] tags = ["multi", "other"];
        await instance.Cache.GetOrCreateAsync(key, Returns("old"), tags: tags);
        Assert.Equal("old", await instance.Cache.GetOrCreateAsync(key, Returns("x"), Entry.NoLocal, tags));

        await instance.Cache.RemoveByTagAsync(["nothing", "other"]);

        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, Returns("new"), tags: tags));
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, Returns("x"), Entry.NoLocal, tags));
    }
}

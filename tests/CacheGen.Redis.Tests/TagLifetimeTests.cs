using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Tags cost memory only while they matter: a generation key in Redis lives (at least) as long as the longest entry
/// written under it and then expires, and the in-process tag table forgets tags no live entry can carry, without ever
/// letting an evicted entry become valid again.
/// </summary>
public sealed class TagLifetimeTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly RedisKeyLayout Layout = new("example", 1);

    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    private long Pttl(RedisKey key) => long.Parse(redis.Cli("-n", "1", "PTTL", (string)key!));

    [Fact]
    public async Task Evicting_thousands_of_tags_leaves_no_generation_key_without_a_ttl_and_no_tag_in_process()
    {
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.Backplane = false);
        string run = Guid.NewGuid().ToString("N");
        const int Tags = 5000;
        for (int start = 0; start < Tags; start += 250)
            await Task.WhenAll(Enumerable.Range(start, 250).Select(i => instance.Cache.RemoveByTagAsync($"u:{run}:{i}").AsTask()));

        IServer server = redis.Database.Multiplexer.GetServers().Single();
        var generations = new List<RedisKey>();
        await foreach (RedisKey key in server.KeysAsync(1, $"example:1:*{{u:{run}:*", pageSize: 1000))
            generations.Add(key);
        Assert.Equal(Tags, generations.Count);
        foreach (RedisKey key in generations.Take(200))
            Assert.InRange(Pttl(key), 1, 300_000);
        Assert.InRange(instance.Hooks.LocalTagCount, 0, 100);
    }

    [Fact]
    public async Task A_generation_key_lives_at_least_as_long_as_the_longest_entry_written_under_it()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string tag = "long" + Guid.NewGuid().ToString("N");
        await instance.Cache.GetOrCreateAsync(Entry.UniqueKey(tag), Returns("hour"), new HybridCacheEntryOptions { Expiration = TimeSpan.FromHours(1) }, [tag]);
        // The write is what extends the generation's TTL, and it lands after the answer.
        await instance.SettledAsync();
        Assert.InRange(Pttl(Layout.Generation(tag)), 3_500_000, 3_600_000);

        // A shorter entry does not shorten it; an eviction keeps it; a longer entry extends it.
        await instance.Cache.GetOrCreateAsync(Entry.UniqueKey(tag), Returns("minute"), new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1) }, [tag]);
        await instance.SettledAsync();
        Assert.InRange(Pttl(Layout.Generation(tag)), 3_500_000, 3_600_000);
        await instance.Cache.RemoveByTagAsync(tag);
        Assert.InRange(Pttl(Layout.Generation(tag)), 3_500_000, 3_600_000);
        await instance.Cache.SetAsync(Entry.UniqueKey(tag), "day", new HybridCacheEntryOptions { Expiration = TimeSpan.FromDays(1) }, [tag]);
        Assert.InRange(Pttl(Layout.Generation(tag)), 86_000_000, 86_400_000);
    }

    [Fact]
    public async Task A_generation_key_that_expired_reads_as_an_eviction_and_caching_goes_on()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string tag = "short" + Guid.NewGuid().ToString("N");
        string key = Entry.UniqueKey(tag);
        // A high generation, so that the one the key restarts at is lower than the one this instance has seen.
        await redis.Database.StringSetAsync(Layout.Generation(tag), "900000000000000000", TimeSpan.FromMinutes(5));
        Assert.Equal("old", await instance.Cache.GetOrCreateAsync(key, Returns("old"), Entry.NoLocal, [tag]));
        await instance.SettledAsync();

        // As if its TTL (or a volatile-* policy) had removed it: the entry is a miss, never an error, and a key that
        // restarts lower than seen is no rollback to warn about.
        await redis.Database.KeyDeleteAsync(Layout.Generation(tag));

        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, [tag]));
        int calls = 0;
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, Returns("again", () => calls++), Entry.NoLocal, [tag]));
        Assert.Equal(0, calls);
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.GenerationRolledBack));
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.True(long.Parse((string)(await redis.Database.StringGetAsync(Layout.Generation(tag)))!) > 900000000000000000);
    }

    [Fact]
    public async Task The_in_process_tag_table_forgets_tags_whose_entries_expired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var instance = CacheInstance.Create(null, time: time);
        var shortLived = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(1) };
        for (int i = 0; i < 5000; i++)
            await instance.Cache.GetOrCreateAsync($"k{i}", Returns("v"), shortLived, [$"t{i}"]);
        Assert.True(instance.Hooks.LocalTagCount >= 1, "the fills registered their tags");

        time.Advance(TimeSpan.FromMinutes(2));
        for (int i = 0; i < 5000; i++)
            await instance.Cache.GetOrCreateAsync($"n{i}", Returns("v"), shortLived, [$"n{i}"]);
        time.Advance(TimeSpan.FromMinutes(2));
        await instance.Cache.GetOrCreateAsync("last", Returns("v"), shortLived, ["last"]);

        Assert.InRange(instance.Hooks.LocalTagCount, 0, 2100);
    }

    [Fact]
    public async Task A_tag_the_table_dropped_never_lets_its_evicted_entry_back()
    {
        await using var instance = CacheInstance.Create(null, o => o.MaximumLocalEntries = 1000);
        Assert.Equal("old", await instance.Cache.GetOrCreateAsync("entry", Returns("old"), tags: ["kept"]));

        // Many fills with their own tags, none stored in-process: the table is over its bound and drops the oldest.
        var noStore = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite };
        for (int i = 0; i < 5000; i++)
            await instance.Cache.GetOrCreateAsync($"x{i}", Returns("v"), noStore, [$"x{i}"]);
        Assert.InRange(instance.Hooks.LocalTagCount, 0, 2100);

        await instance.Cache.RemoveByTagAsync("kept");
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync("entry", Returns("new"), tags: ["kept"]));
    }

    [Fact]
    public void The_generations_an_instance_remembers_are_bounded()
    {
        var floors = new GenerationFloors();
        for (int i = 0; i < GenerationFloors.Capacity + 1000; i++)
            floors.Observe("example:1:#gen:{t" + i + "}", i);
        Assert.InRange(floors.Count, 1, GenerationFloors.Capacity);
        // The most recently seen are kept.
        Assert.True(floors.IsBehind("example:1:#gen:{t" + (GenerationFloors.Capacity + 999) + "}", 0));
    }
}

using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// An in-process copy never outlives its entry: the L1 lifetime of a value read from Redis is the local lifetime or the
/// entry's remaining lifetime, whichever ends first (the envelope carries when the entry expires).
/// </summary>
public sealed class EntryLifetimeTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly HybridCacheEntryOptions TwoSeconds = new()
    {
        Expiration = TimeSpan.FromSeconds(2),
        LocalCacheExpiration = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public async Task A_copy_read_from_Redis_is_not_served_after_the_Redis_entry_expired()
    {
        Action<CacheGenOptions> longLocal = o => o.LocalCacheExpiration = TimeSpan.FromSeconds(60);
        await using var a = CacheInstance.Create(redis.Configuration, longLocal);
        await using var b = CacheInstance.Create(redis.Configuration, longLocal);
        string key = Entry.UniqueKey();

        Assert.Equal("old", await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), TwoSeconds, Entry.Posts));
        await a.SettledAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), TwoSeconds, Entry.Posts));

        // Bounded polling: the Redis entry goes away about 2 s after A wrote it.
        var clock = Stopwatch.StartNew();
        while (await redis.Database.KeyExistsAsync(Entry.RedisKey(key)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the Redis entry never expired");
            await Task.Delay(10);
        }

        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), TwoSeconds, Entry.Posts));
    }

    [Fact]
    public async Task On_the_injected_clock_a_copy_from_Redis_lives_only_for_the_entry_s_remaining_lifetime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Action<CacheGenOptions> longLocal = o => o.LocalCacheExpiration = TimeSpan.FromSeconds(60);
        await using var a = CacheInstance.Create(redis.Configuration, longLocal, time);
        await using var b = CacheInstance.Create(redis.Configuration, longLocal, time);
        using var metrics = new MetricsRecorder(b.Hooks.Meter);
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(30), LocalCacheExpiration = TimeSpan.FromSeconds(60) };
        string key = Entry.UniqueKey();

        await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), options, Entry.Posts);
        // B reads A's entry from Redis: A's write must have landed.
        await a.SettledAsync();
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), options, Entry.Posts));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), options, Entry.Posts));
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l1"));

        // 31 s after A wrote it the entry has logically expired (Redis, on the real clock, may still hold it): B neither
        // serves its copy nor takes the Redis bytes as a hit.
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), options, Entry.Posts));
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l1"));
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l2"));
        Assert.Empty(b.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
    }

    [Fact]
    public async Task An_entry_in_the_previous_envelope_format_is_a_plain_miss_and_is_replaced()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await instance.SettledAsync();
        long[] generations = await TestEnvelopes.PostsGenerationsAsync(redis.Database);
        // Version 3: the same envelope without the expiry in front of the schema hash.
        byte[] current = TestEnvelopes.Value(new Post(1, "old", "c"), key, generations);
        int expiry = Envelope.HeaderLength(generations.Length) - 4 * sizeof(long);
        byte[] previous = [.. current[..expiry], .. current[(expiry + sizeof(long))..]];
        previous[0] = 3;
        await redis.Database.StringSetAsync(Entry.RedisKey(key), previous, TimeSpan.FromMinutes(1));

        Post post = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(1, "fresh", "c")), Entry.NoLocal, Entry.Posts);
        Post again = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(1, "third", "c")), Entry.NoLocal, Entry.Posts);

        Assert.Equal(("fresh", "fresh"), (post.Title, again.Title));
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(0, metrics.Sum("cachegen.corrupt_entries"));
        Assert.Equal(Envelope.ValueVersion, ((byte[])(await redis.Database.StringGetAsync(Entry.RedisKey(key)))!)[0]);
    }
}

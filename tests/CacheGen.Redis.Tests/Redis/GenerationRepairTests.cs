using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Foreign bytes under a tag's generation key (anything that is not a decimal integer): like a non-string, a logged,
/// counted repair, never a Redis failure. The repair is an eviction of the tag (a fresh random generation), and
/// caching goes on for this instance and the others.
/// </summary>
public sealed class GenerationRepairTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly RedisKeyLayout Layout = new("example", 1);

    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    public static TheoryData<string> Garbage => ["garbage", "", "12abc", "1.5", "99999999999999999999999", " 42"];

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_in_a_generation_key_then_an_eviction_keeps_redis_on_for_every_instance(string garbage)
    {
        string region = "g" + Guid.NewGuid().ToString("N");
        string[] tags = [region];
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        await a.Cache.GetOrCreateAsync(Entry.UniqueKey(region), Returns("primed"), tags: tags);
        await a.SettledAsync();
        await redis.Database.StringSetAsync(Layout.Generation(region), garbage);

        await a.Cache.RemoveByTagAsync(region);
        for (int i = 0; i < 10; i++)
            await a.Cache.GetOrCreateAsync(Entry.UniqueKey(region), Returns("filler"), Entry.NoLocal, tags);
        string key = Entry.UniqueKey(region);
        Assert.Equal("stored", await a.Cache.GetOrCreateAsync(key, Returns("stored"), Entry.NoLocal, tags));
        await a.SettledAsync();

        int calls = 0;
        Assert.Equal("stored", await b.Cache.GetOrCreateAsync(key, Returns("recomputed", () => calls++), Entry.NoLocal, tags));
        Assert.Equal(0, calls);
        Assert.Equal(CacheGen.Redis.BreakerState.Closed, a.Hooks.RedisBreakerState);
        Assert.Equal(0, a.Hooks.PendingEvictionCount);
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
        LogLine warning = Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(1, metrics.Sum("cachegen.corrupt_entries", "problem=" + CorruptKinds.Generation));
        Assert.True(long.TryParse((string?)await redis.Database.StringGetAsync(Layout.Generation(region)), out _));
    }

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_in_a_generation_key_is_a_logged_miss_and_the_next_read_hits(string garbage)
    {
        string region = "g" + Guid.NewGuid().ToString("N");
        string[] tags = [region];
        await using var a = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        string key = Entry.UniqueKey(region);
        Assert.Equal("old", await a.Cache.GetOrCreateAsync(key, Returns("old"), Entry.NoLocal, tags));
        await a.SettledAsync();
        await redis.Database.StringSetAsync(Layout.Generation(region), garbage);

        // The old entry was written under a generation the repair abandoned: a miss, then the new value is kept.
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, tags));
        int calls = 0;
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(key, Returns("again", () => calls++), Entry.NoLocal, tags));
        Assert.Equal(0, calls);
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(1, metrics.Sum("cachegen.corrupt_entries", "problem=" + CorruptKinds.Generation));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
    }

    [Fact]
    public async Task Garbage_in_a_generation_key_before_an_unconditional_set_is_repaired()
    {
        string region = "g" + Guid.NewGuid().ToString("N");
        string[] tags = [region];
        await using var a = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        await redis.Database.StringSetAsync(Layout.Generation(region), "garbage");
        string key = Entry.UniqueKey(region);

        await a.Cache.SetAsync(key, "set", Entry.NoLocal, tags);

        int calls = 0;
        Assert.Equal("set", await a.Cache.GetOrCreateAsync(key, Returns("recomputed", () => calls++), Entry.NoLocal, tags));
        Assert.Equal(0, calls);
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
    }
}

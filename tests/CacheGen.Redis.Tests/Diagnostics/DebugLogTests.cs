using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>At Debug, one log line per hit, miss and eviction, naming the key: how a user watches the cache work.</summary>
public sealed class DebugLogTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task A_miss_an_in_process_hit_a_Redis_hit_and_evictions_each_log_one_Debug_line_with_the_key()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"), tags: Entry.Posts);
        await a.SettledAsync();
        await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"), tags: Entry.Posts);
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"), tags: Entry.Posts);
        await a.Cache.RemoveAsync(key);
        await a.Cache.RemoveByTagAsync("posts");

        Assert.Equal($"CacheGen missed '{key}' and runs the data call", Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.Miss)).Message);
        Assert.Equal($"CacheGen hit '{key}' in-process", Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.LocalHit)).Message);
        Assert.Equal($"CacheGen hit '{key}' in Redis", Assert.Single(b.Logs.WithEventId(CacheGenLogEvents.RedisHit)).Message);
        Assert.Equal($"CacheGen evicted '{key}'", Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.KeyEvicted)).Message);
        Assert.Equal("CacheGen evicted every entry tagged 'posts'", Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.TagEvicted)).Message);
        Assert.All(a.Logs.WithEventId(CacheGenLogEvents.Miss).Concat(a.Logs.WithEventId(CacheGenLogEvents.LocalHit)), line => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, line.Level));
    }
}

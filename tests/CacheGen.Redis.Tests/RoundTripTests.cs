using System.Text.Json;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Serialization never turns a successful data call into an exception or a wrong value: a value reads back exactly as
/// the data call returned it, from L1, from Redis and for every joiner, or it is returned to every caller and not cached
/// (one warning per type, and <c>cachegen.uncacheable_values</c>).
/// </summary>
public sealed class RoundTripTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_null_JsonPayload_is_cached_and_read_back_as_null(bool withRedis)
    {
        await using var writer = CacheInstance.Create(withRedis ? redis.Configuration : null);
        await using var reader = CacheInstance.Create(withRedis ? redis.Configuration : null);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<JsonPayload?>(_ => null);

        Assert.Null(await writer.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts));
        Assert.Null(await writer.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts));
        Assert.Equal(1, factory.Calls);
        if (withRedis)
        {
            var other = new CountingFactory<JsonPayload?>(_ => JsonPayload.FromUtf8("""{"not":"cached"}"""u8.ToArray()));
            Assert.Null(await reader.Cache.GetOrCreateAsync(key, other.Invoke, tags: Entry.Posts));
            Assert.Equal(0, other.Calls);
        }
        Assert.Empty(writer.Logs.Lines.Where(l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning));
    }

    [Fact]
    public async Task A_payload_holding_JSON_null_stays_a_payload_and_a_null_payload_stays_null()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string holdsNull = Entry.UniqueKey();
        string isNull = Entry.UniqueKey();
        await writer.Cache.GetOrCreateAsync(holdsNull, _ => ValueTask.FromResult<JsonPayload?>(JsonPayload.FromUtf8("null"u8.ToArray())), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(isNull, _ => ValueTask.FromResult<JsonPayload?>(null), tags: Entry.Posts);

        JsonPayload? payload = await reader.Cache.GetOrCreateAsync(holdsNull, _ => ValueTask.FromResult<JsonPayload?>(null), tags: Entry.Posts);
        JsonPayload? none = await reader.Cache.GetOrCreateAsync(isNull, _ => ValueTask.FromResult<JsonPayload?>(JsonPayload.FromUtf8("1"u8.ToArray())), tags: Entry.Posts);

        Assert.Equal("null", Assert.IsType<JsonPayload>(payload).ToString());
        Assert.Null(none);
    }
}

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

    [Fact]
    public async Task Value_tuples_field_only_types_and_dictionaries_of_them_read_back_from_Redis_and_L1_as_stored()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string tupleKey = Entry.UniqueKey(), pointKey = Entry.UniqueKey(), mapKey = Entry.UniqueKey();
        await writer.Cache.GetOrCreateAsync(tupleKey, _ => ValueTask.FromResult((1, 2)), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(pointKey, _ => ValueTask.FromResult(new FieldPoint { X = 3, Y = 4 }), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(mapKey, _ => ValueTask.FromResult(new Dictionary<string, (int, string)> { ["a"] = (5, "six") }), tags: Entry.Posts);

        // From Redis on another instance, then from that instance's L1.
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal((1, 2), await reader.Cache.GetOrCreateAsync(tupleKey, _ => ValueTask.FromResult((-1, -1)), tags: Entry.Posts));
            FieldPoint point = await reader.Cache.GetOrCreateAsync(pointKey, _ => ValueTask.FromResult(new FieldPoint { X = -1 }), tags: Entry.Posts);
            Assert.Equal((3, 4), (point.X, point.Y));
            Dictionary<string, (int, string)> map = await reader.Cache.GetOrCreateAsync(mapKey, _ => ValueTask.FromResult(new Dictionary<string, (int, string)>()), tags: Entry.Posts);
            Assert.Equal((5, "six"), Assert.Single(map).Value);
        }
        // A mutable value is read from its JSON on every in-process hit of the instance that computed it, too.
        FieldPoint local = await writer.Cache.GetOrCreateAsync(pointKey, _ => ValueTask.FromResult(new FieldPoint { X = -1 }), tags: Entry.Posts);
        Assert.Equal((3, 4), (local.X, local.Y));
    }
}

/// <summary>Public fields only, like a value tuple: System.Text.Json leaves it out unless fields are included.</summary>
public sealed class FieldPoint
{
    public int X;
    public int Y;
}

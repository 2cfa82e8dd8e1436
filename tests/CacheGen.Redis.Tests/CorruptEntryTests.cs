using System.Buffers.Binary;
using System.Text;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>Foreign or damaged bytes under a real key are a miss: the factory's value comes back, nothing throws.</summary>
public sealed class CorruptEntryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const int CorruptEntry = 20;

    public static TheoryData<string> Cases => ["random bytes", "empty value", "wrong JSON shape", "invalid JSON", "unknown format version", "truncated header"];

    private async Task<byte[]> BytesFor(string kind)
    {
        long generation = long.Parse((string)(await redis.Database.StringGetAsync("example:1:gen:{posts}"))!);
        switch (kind)
        {
            case "random bytes":
                var random = new byte[64];
                Random.Shared.NextBytes(random);
                random[0] = 0xFF;
                return random;
            case "empty value":
                return [];
            case "wrong JSON shape":
                return ValueEnvelope(generation, "[1, 2, 3]");
            case "invalid JSON":
                return ValueEnvelope(generation, "{\"id\": 5, \"title\":");
            case "unknown format version":
                byte[] future = ValueEnvelope(generation, "{\"id\":5,\"title\":\"t\",\"content\":\"c\"}");
                future[0] = 9;
                return future;
            case "truncated header":
                return ValueEnvelope(generation, "{}")[..12];
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>A well-formed header with the region's current generation, so only the payload is wrong.</summary>
    private static byte[] ValueEnvelope(long generation, string json)
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        var envelope = new byte[18 + body.Length];
        envelope[0] = 1;
        Random.Shared.NextBytes(envelope.AsSpan(1, 8));
        envelope[9] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(envelope.AsSpan(10), generation);
        body.CopyTo(envelope.AsSpan(18));
        return envelope;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Unreadable_bytes_are_a_logged_miss(string kind)
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await redis.Database.StringSetAsync(Entry.RedisKey(key), await BytesFor(kind), TimeSpan.FromMinutes(1));

        int calls = 0;
        Post post = await instance.Cache.GetOrCreateAsync(key, _ =>
        {
            calls++;
            return ValueTask.FromResult(new Post(5, "fresh", "c"));
        }, tags: Entry.Posts);

        Assert.Equal("fresh", post.Title);
        Assert.Equal(1, calls);
        Assert.Single(instance.Logs.WithEventId(CorruptEntry));
        // The fresh value replaced the bad bytes (the guard compared their stamp), so the next reader hits.
        Post again = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(0, "x", "x")), Entry.NoLocal, Entry.Posts);
        Assert.Equal("fresh", again.Title);
    }

    [Fact]
    public async Task A_key_holding_another_redis_type_is_a_miss()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await redis.Database.HashSetAsync(Entry.RedisKey(key), "field", "value");

        Post post = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(5, "fresh", "c")), tags: Entry.Posts);

        Assert.Equal("fresh", post.Title);
        // Foreign data, not an outage: logged as a corrupt entry (CircuitBreakerTests covers the repair).
        Assert.Single(instance.Logs.WithEventId(CorruptEntry));
    }
}

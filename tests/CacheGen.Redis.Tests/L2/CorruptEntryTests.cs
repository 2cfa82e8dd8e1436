using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Foreign, damaged or out-of-date bytes under a real key: the data call's value comes back, nothing throws, one
/// warning with a stable EventId and one metric say so, and the bytes are replaced so the next reader hits.
/// </summary>
public sealed class CorruptEntryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly PayloadSerializer Serializer = new(null);

    public static TheoryData<string> Cases =>
    [
        "random bytes", "empty value", "truncated payload", "payload + 1 byte", "flipped byte", "unknown format version",
        "truncated header", "bare JSON", "wrong JSON shape", "invalid JSON", "older schema: a missing required property",
        "unknown enum value", "another key's value", "nesting past the depth limit", "10 MB field",
    ];

    private async Task<byte[]> BytesFor(string kind, string key)
    {
        long[] generation = await TestEnvelopes.PostsGenerationsAsync(redis.Database);
        const string Good = """{"id":5,"title":"old","content":"c"}""";
        switch (kind)
        {
            case "random bytes":
                var random = new byte[64];
                Random.Shared.NextBytes(random);
                random[0] = 0xFF;
                return random;
            case "empty value":
                return [];
            case "truncated payload":
                return ValueEnvelope(key, generation, Good)[..^4];
            case "payload + 1 byte":
                return [.. ValueEnvelope(key, generation, Good), (byte)' '];
            case "flipped byte":
                byte[] flipped = ValueEnvelope(key, generation, Good);
                flipped[^3] ^= 0x20;
                return flipped;
            case "unknown format version":
                // A version no CacheGen release wrote. (A newer one is a quiet miss that is kept: RollingDeployTests.)
                byte[] unknown = ValueEnvelope(key, generation, Good);
                unknown[0] = 1;
                return unknown;
            case "truncated header":
                return ValueEnvelope(key, generation, Good)[..12];
            case "bare JSON":
                return Encoding.UTF8.GetBytes(Good);
            case "wrong JSON shape":
                return ValueEnvelope(key, generation, "[1, 2, 3]");
            case "invalid JSON":
                return ValueEnvelope(key, generation, """{"id": 5, "title":""");
            case "older schema: a missing required property":
                // Written by a build whose Post had no Content: its contract, and so its schema hash, differ.
                return ValueEnvelope(key, generation, """{"id":5,"title":"old"}""", WithoutContent.SchemaOf<Post>());
            case "unknown enum value":
                return ValueEnvelope(key, generation, """{"id":5,"status":"Archived"}""", Serializer.SchemaOf<Tracked>());
            case "another key's value":
                return ValueEnvelope(Entry.UniqueKey(), generation, Good);
            case "nesting past the depth limit":
                return ValueEnvelope(key, generation, """{"id":5,"extra":""" + new string('[', 200) + new string(']', 200) + "}");
            case "10 MB field":
                return ValueEnvelope(key, generation, """{"id":5,"title":""" + "\"" + new string('x', 10 << 20) + "\"}");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>Contract of a Post from an older build, without the Content property.</summary>
    private static readonly PayloadSerializer WithoutContent = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers = { info => { if (info.Type == typeof(Post)) info.Properties.Remove(info.Properties.Single(p => p.Name == "content")); } },
        },
    });

    /// <summary>A well-formed, sealed envelope with the region's current generations: only what the test varies is wrong.</summary>
    private static byte[] ValueEnvelope(string key, long[] generations, string json, ulong? schema = null)
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        int offset = Envelope.HeaderLength(generations.Length);
        var envelope = new byte[offset + body.Length];
        Envelope.WriteValueHeader(envelope, generations.Length);
        Envelope.SetGenerations(envelope, generations);
        body.CopyTo(envelope.AsSpan(offset));
        Envelope.Seal(envelope, offset, schema ?? Serializer.SchemaOf<Post>(), key);
        return envelope;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Unreadable_bytes_are_a_logged_counted_miss_and_are_replaced(string kind)
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await instance.SettledAsync();
        await redis.Database.StringSetAsync(Entry.RedisKey(key), await BytesFor(kind, key), TimeSpan.FromMinutes(1));

        if (kind == "unknown enum value")
        {
            var tracked = new CountingFactory<Tracked>(_ => new Tracked(5, Status.Draft));
            Assert.Equal(Status.Draft, (await instance.Cache.GetOrCreateAsync(key, tracked.Invoke, tags: Entry.Posts)).Status);
            Assert.Equal(1, tracked.Calls);
        }
        else
        {
            var factory = new CountingFactory<Post>(_ => new Post(5, "fresh", "c"));
            Assert.Equal("fresh", (await instance.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts)).Title);
            Assert.Equal(1, factory.Calls);
        }

        await instance.SettledAsync();
        LogLine warning = Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Equal(1, metrics.Sum("cachegen.corrupt_entries"));
        // The fresh value replaced the bad bytes (the guard compared their stamp), so the next reader hits.
        RedisValueCheck replaced = await RedisValueCheck.Read(redis, key);
        Assert.True(replaced.IsOurs, $"{kind}: the entry was not replaced");
    }

    /// <summary>What the entry key holds now.</summary>
    private readonly record struct RedisValueCheck(bool IsOurs)
    {
        public static async Task<RedisValueCheck> Read(RedisFixture redis, string key)
        {
            byte[]? bytes = await redis.Database.StringGetAsync(Entry.RedisKey(key));
            return new RedisValueCheck(bytes is not null && Envelope.Parse(bytes, out _, out int offset, out _) == EnvelopeKind.Value
                && bytes.Length - offset < 1024);
        }
    }

    [Fact]
    public async Task A_type_name_in_the_cached_JSON_is_never_honoured()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await instance.SettledAsync();
        long[] generation = await TestEnvelopes.PostsGenerationsAsync(redis.Database);
        const string Gadget = """{"$type":"System.Diagnostics.Process, System.Diagnostics.Process","StartInfo":{"FileName":"/bin/false"}}""";
        await redis.Database.StringSetAsync(Entry.RedisKey(key), ValueEnvelope(key, generation, Gadget, Serializer.SchemaOf<object>()), TimeSpan.FromMinutes(1));

        object value = await instance.Cache.GetOrCreateAsync<object>(key, _ => ValueTask.FromResult<object>("fresh"), Entry.NoLocal, Entry.Posts);

        // System.Text.Json reads an object-typed value as a JsonElement: the type name is data, never a type to create.
        JsonElement element = Assert.IsType<JsonElement>(value);
        Assert.Equal("System.Diagnostics.Process, System.Diagnostics.Process", element.GetProperty("$type").GetString());
    }

    [Fact]
    public async Task A_key_holding_another_redis_type_is_a_miss()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await redis.Database.HashSetAsync(Entry.RedisKey(key), "field", "value");

        Post post = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(5, "fresh", "c")), tags: Entry.Posts);

        Assert.Equal("fresh", post.Title);
        await instance.SettledAsync();
        // Foreign data, not an outage: logged as a corrupt entry (CircuitBreakerTests covers the repair).
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
    }

    [Fact]
    public async Task A_non_string_under_an_entry_key_is_removed_when_its_region_generation_already_exists()
    {
        // With the generation in place the read is a single MGET, which shows the hash as a missing entry; the guarded
        // write must still notice it, remove it, and never count it as a Redis failure.
        await using var instance = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        await instance.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await instance.SettledAsync();
        string key = Entry.UniqueKey();
        await redis.Database.HashSetAsync(Entry.RedisKey(key), "field", "value");

        // Each call settles before the next: the write that finds the foreign value (and removes it) lands after the answer.
        Post post = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(5, "fresh", "c")), Entry.NoLocal, Entry.Posts);
        await instance.SettledAsync();
        Post again = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(6, "second", "c")), Entry.NoLocal, Entry.Posts);
        await instance.SettledAsync();
        Post cached = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(7, "third", "c")), Entry.NoLocal, Entry.Posts);

        Assert.Equal(("fresh", "second", "second"), (post.Title, again.Title, cached.Title));
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(1, metrics.Sum("cachegen.corrupt_entries", "problem=wrong_type"));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
        Assert.Equal(StackExchange.Redis.RedisType.String, await redis.Database.KeyTypeAsync(Entry.RedisKey(key)));
    }
}

public enum Status { Draft, Published }

/// <summary>A value with a string enum: a name this build does not know is a bad entry, not an exception.</summary>
public sealed record Tracked(int Id, [property: JsonConverter(typeof(JsonStringEnumConverter<Status>))] Status Status);

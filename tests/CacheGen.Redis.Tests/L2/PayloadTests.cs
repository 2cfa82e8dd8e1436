using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// <see cref="JsonPayload"/> (a value serialized once, then served as bytes) through L1 and Redis, and the size bounds:
/// the largest cached payload and the in-process byte budget.
/// </summary>
public sealed class PayloadTests(RedisFixture redis) : IClassFixture<RedisFixture>
{

    private static JsonPayload PostsPayload(int count) =>
        JsonPayload.Serialize(Enumerable.Range(1, count).Select(i => new Post(i, $"Post {i}", "é \"quoted\" " + i)).ToList(), PayloadJson.Default.ListPost);

    [Fact]
    public async Task A_payload_is_served_as_the_same_bytes_from_L1_and_from_Redis_without_being_serialized_again()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        JsonPayload original = PostsPayload(100);

        JsonPayload first = await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(original), tags: Entry.Posts);
        await writer.SettledAsync();
        JsonPayload fromL1 = await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(1)), tags: Entry.Posts);
        JsonPayload fromRedis = await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(1)), tags: Entry.Posts);
        JsonPayload fromReadersL1 = await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(1)), tags: Entry.Posts);

        Assert.Same(original, first);
        Assert.Same(original, fromL1); // immutable: one shared instance, no copy per hit
        Assert.Equal(original.Utf8Json.ToArray(), fromRedis.Utf8Json.ToArray());
        Assert.Same(fromRedis, fromReadersL1);
        List<Post> posts = fromRedis.Deserialize(PayloadJson.Default.ListPost)!;
        Assert.Equal(100, posts.Count);
        Assert.Equal("é \"quoted\" 7", posts[6].Content);
        // In Redis the payload's bytes are stored as they are, after the envelope header (two generations: the
        // region's and the clear epoch's).
        byte[] stored = (await redis.Database.StringGetAsync(Entry.RedisKey(key)))!;
        Assert.Equal(original.Utf8Json.ToArray(), stored[Envelope.HeaderLength(2)..]);
    }

    [Fact]
    public async Task A_damaged_payload_in_Redis_is_a_miss_not_bytes_sent_to_a_client()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(10)), tags: Entry.Posts);
        await writer.SettledAsync();
        byte[] stored = (await redis.Database.StringGetAsync(Entry.RedisKey(key)))!;
        stored[^2] = (byte)'{'; // still the same length, no longer the same JSON
        await redis.Database.StringSetAsync(Entry.RedisKey(key), stored, TimeSpan.FromMinutes(1));

        JsonPayload served = await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(3)), tags: Entry.Posts);

        Assert.Equal(3, served.Deserialize(PayloadJson.Default.ListPost)!.Count);
        Assert.Single(reader.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
    }

    [Fact]
    public void FromUtf8_accepts_one_JSON_value_and_refuses_anything_else()
    {
        Assert.Equal("""{"a":[1,2]}""", JsonPayload.FromUtf8("""{"a":[1,2]}"""u8.ToArray()).ToString());
        foreach (string bad in new[] { "", "{", """{"a":1}{}""", "[1,]", "nul", "{} x" })
            Assert.Throws<ArgumentException>(() => JsonPayload.FromUtf8(Encoding.UTF8.GetBytes(bad)));
    }

    [Fact]
    public void Serialized_by_System_Text_Json_a_payload_is_its_own_JSON()
    {
        // How any other cache (Microsoft's HybridCache, FusionCache) stores it: the JSON itself, not a wrapper.
        JsonPayload payload = JsonPayload.FromUtf8("""{"id":1,"tags":["a"]}"""u8.ToArray());
        string json = JsonSerializer.Serialize(payload, PayloadJson.Default.JsonPayload);
        Assert.Equal("""{"id":1,"tags":["a"]}""", json);
        Assert.Equal(json, JsonSerializer.Deserialize(json, PayloadJson.Default.JsonPayload)!.ToString());
    }

    [Fact]
    public async Task A_value_over_the_maximum_payload_size_is_returned_but_not_cached_with_a_warning_and_a_metric()
    {
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.MaximumPayloadBytes = 4096);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<Post>(_ => new Post(1, new string('x', 5000), "c"));

        Post first = await instance.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts);
        Post second = await instance.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts);
        await instance.SettledAsync();

        Assert.Equal(5000, first.Title.Length);
        Assert.Equal(5000, second.Title.Length);
        Assert.Equal(2, factory.Calls); // neither L1 nor Redis kept it
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal(0, instance.Hooks.LocalCount);
        Assert.Equal(2, instance.Logs.WithEventId(CacheGenLogEvents.PayloadTooLarge).Count());
        Assert.Equal(2, metrics.Sum("cachegen.oversized_values"));

        // Just under the limit is cached as usual.
        string small = Entry.UniqueKey();
        var fits = new CountingFactory<Post>(_ => new Post(1, new string('x', 3000), "c"));
        await instance.Cache.GetOrCreateAsync(small, fits.Invoke, tags: Entry.Posts);
        await instance.Cache.GetOrCreateAsync(small, fits.Invoke, tags: Entry.Posts);
        Assert.Equal(1, fits.Calls);
    }

}

/// <summary>Measures the process heap, so it runs alone: other test classes' allocations would blur the figure.</summary>
[Collection(nameof(SoakTests))]
public sealed class SoakTests
{
    [Fact]
    public async Task The_in_process_cache_stays_within_its_byte_budget_under_a_stream_of_distinct_keys()
    {
        // A soak in miniature: 200 MB of distinct 4 KB values through a 16 MB budget, in-process only.
        const long Budget = 16L << 20;
        await using var instance = CacheInstance.Create(redis: null, o => o.MaximumLocalBytes = Budget);
        string text = new('x', 4000);
        long peak = 0;
        GC.Collect();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 50_000; i++)
        {
            await instance.Cache.GetOrCreateAsync<Post>($"{{soak}}:{i}", _ => ValueTask.FromResult(new Post(i, text + i, "c")));
            peak = Math.Max(peak, instance.Hooks.LocalBytes);
        }
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);

        Assert.InRange(peak, Budget / 2, Budget + 8192); // one entry may land before the trim that follows it
        Assert.InRange(instance.Hooks.LocalBytes, 1, Budget);
        Assert.InRange(instance.Hooks.LocalCount, 1_000, 5_000);
        // Mutable values are kept as their JSON: the heap holds about the budget, not the 200 MB that went through.
        Assert.True(heapAfter - heapBefore < 3 * Budget, $"heap grew by {(heapAfter - heapBefore) >> 20} MB");
        // The newest values are the ones a reader finds.
        var factory = new CountingFactory<Post>(_ => new Post(0, "recomputed", "c"));
        Assert.NotEqual("recomputed", (await instance.Cache.GetOrCreateAsync("{soak}:49999", factory.Invoke)).Title);
    }

    [Fact]
    public async Task A_value_larger_than_the_whole_in_process_budget_is_not_kept_in_process()
    {
        await using var instance = CacheInstance.Create(redis: null, o => o.MaximumLocalBytes = 1000);
        var factory = new CountingFactory<Post>(_ => new Post(1, new string('x', 2000), "c"));
        await instance.Cache.GetOrCreateAsync("{big}:1", factory.Invoke);
        await instance.Cache.GetOrCreateAsync("{big}:1", factory.Invoke);
        Assert.Equal(2, factory.Calls);
        Assert.Equal(0, instance.Hooks.LocalBytes);
    }

    [Fact]
    public async Task A_set_too_large_to_keep_in_process_still_replaces_the_smaller_value_before_it()
    {
        await using var instance = CacheInstance.Create(redis: null, o => o.MaximumLocalBytes = 1000);
        await instance.Cache.SetAsync("{big}:2", new Post(1, "small", "c"));

        await instance.Cache.SetAsync("{big}:2", new Post(1, new string('x', 2000), "c"));

        Post read = await instance.Cache.GetOrCreateAsync("{big}:2", _ => ValueTask.FromResult(new Post(1, "from the source", "c")));
        Assert.Equal("from the source", read.Title);
    }
}

[CollectionDefinition(nameof(SoakTests), DisableParallelization = true)]
public sealed class SoakCollection;

[JsonSerializable(typeof(List<Post>))]
[JsonSerializable(typeof(JsonPayload))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class PayloadJson : JsonSerializerContext;

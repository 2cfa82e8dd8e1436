using CacheGen.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Keys other code passes to the cache are data, not addresses: no entry key can name a generation counter, a fill
/// lease or the clear epoch, whatever its text. Hostile keys spelled exactly like CacheGen's internal keys are cached
/// like any other, and the internal keys keep working.
/// </summary>
public sealed class RedisKeyLayoutTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly RedisKeyLayout Layout = new("example", 1);

    /// <summary>The internal keys of region "posts" and of entry "{posts}:post:1", as key text after the prefix.</summary>
    private static string[] InternalShapes()
    {
        RedisKey[] internals = [Layout.Generation("posts"), Layout.Lease("{posts}:post:1"), Layout.Clear(-1), Layout.Clear(0), Layout.Clear(16383)];
        return [.. internals.Select(k => ((string)k!)[Layout.Prefix.Length..]), "gen:{posts}", "lease:{posts}:post:1", "#gen:{posts}", "##gen:{posts}"];
    }

    [Fact]
    public void No_entry_key_equals_an_internal_key()
    {
        RedisKey[] internals = [Layout.Generation("posts"), Layout.Lease("{posts}:post:1"), Layout.Clear(-1), Layout.Clear(0), Layout.Clear(16383)];
        foreach (string hostile in InternalShapes())
        {
            RedisKey entry = Layout.Entry(hostile);
            Assert.DoesNotContain(entry, internals);
            // A long hostile key is shortened: still not an internal key.
            string longHostile = hostile + new string('x', 2000);
            Assert.DoesNotContain(Layout.Entry(longHostile), internals);
            Assert.NotEqual(Layout.Lease(hostile), Layout.Generation("posts"));
        }
        // Entry keys stay one-to-one: an escaped key never meets the key it was escaped from.
        string[] shapes = InternalShapes();
        Assert.Equal(shapes.Distinct().Count(), shapes.Select(s => (string)Layout.Entry(s)!).Distinct().Count());
    }

    [Fact]
    public async Task Hostile_keys_spelled_like_internal_keys_cannot_touch_a_region_generation_or_a_lease()
    {
        await using var a = CacheInstance.Create(redis.Configuration, o => o.DistributedStampedeProtection = true);
        await using var b = CacheInstance.Create(redis.Configuration, o => o.DistributedStampedeProtection = true);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        string key = "{posts}:post:" + Guid.NewGuid().ToString("N");
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v1"), Entry.NoLocal, Entry.Posts));
        await a.SettledAsync();
        string generation = (string)(await redis.Database.StringGetAsync(Layout.Generation("posts")))!;

        string[] hostile = [.. InternalShapes().Append(((string)Layout.Lease(key)!)[Layout.Prefix.Length..]).Distinct()];
        foreach (string h in hostile)
        {
            Assert.Equal("hostile " + h, await a.Cache.GetOrCreateAsync(h, _ => ValueTask.FromResult("hostile " + h), Entry.NoLocal));
            await a.Cache.SetAsync(h, "set " + h, Entry.NoLocal);
        }
        await a.SettledAsync();

        Assert.Equal(generation, (string?)await redis.Database.StringGetAsync(Layout.Generation("posts")));
        int calls = 0;
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult("recomputed"); }, Entry.NoLocal, Entry.Posts));
        Assert.Equal(0, calls);
        foreach (string h in hostile)
            Assert.Equal("set " + h, await b.Cache.GetOrCreateAsync(h, _ => ValueTask.FromResult("recomputed"), Entry.NoLocal));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));

        // Evicting a hostile key leaves the region alone as well.
        foreach (string h in hostile)
            await a.Cache.RemoveAsync(h);
        Assert.Equal(generation, (string?)await redis.Database.StringGetAsync(Layout.Generation("posts")));
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("recomputed"), Entry.NoLocal, Entry.Posts));
    }
}

/// <summary>The clear epoch of each cluster slot lives in that slot: CacheGen's slot function is Redis Cluster's.</summary>
public sealed class ClusterSlotTests
{
    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("somekey", 11058)]
    [InlineData("123456789", 0x31C3 & 16383)]
    public void The_slot_function_is_redis_clusters(string hashTag, int slot) =>
        Assert.Equal(slot, ClusterSlots.SlotOf(System.Text.Encoding.UTF8.GetBytes(hashTag)));

    [Fact]
    public void Every_slot_has_a_clear_key_in_it()
    {
        var layout = new RedisKeyLayout("example", 1);
        for (int slot = 0; slot < ClusterSlots.Count; slot++)
        {
            string key = (string)layout.Clear(slot)!;
            int open = key.IndexOf('{'), close = key.IndexOf('}', open);
            Assert.Equal(slot, ClusterSlots.SlotOf(System.Text.Encoding.UTF8.GetBytes(key[(open + 1)..close])));
        }
        Assert.Equal("example:1:#clear", (string?)layout.Clear(-1));
    }
}

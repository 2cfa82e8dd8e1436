using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Per-entity tags as generated code uses them: an entry of region "posts" carries "posts" and its own tags written
/// within the region ("{posts}:post:7"), and evicting one tag drops exactly the entries that carry it.
/// </summary>
public sealed class TagTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly CachedMethod Get = new("Blog.PostService.GetAsync", "posts", null);

    private static string[] TagsOf(string key, int id) => ["posts", $"{{posts}}:post:{id}:{key}"];

    private static ValueTask<string> Read(CacheInstance instance, string key, string[] tags, Func<string> database, bool local = true) =>
        instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(database()), local ? null : Entry.NoLocal, tags);

    [Fact]
    public async Task A_tag_eviction_drops_exactly_the_entries_that_carry_it_on_every_instance()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string one = Entry.UniqueKey(), two = Entry.UniqueKey(), list = Entry.UniqueKey();
        string[] oneTags = TagsOf(one, 1), twoTags = TagsOf(two, 2);
        foreach (CacheInstance instance in new[] { a, b })
        {
            await Read(instance, one, oneTags, () => "one");
            await Read(instance, two, twoTags, () => "two");
            await Read(instance, list, Entry.Posts, () => "list");
            // B is meant to find A's entries in Redis.
            await instance.SettledAsync();
        }

        await a.Cache.RemoveByTagAsync(oneTags[1]);

        Assert.Equal("one'", await Read(a, one, oneTags, () => "one'"));
        await a.SettledAsync();
        Assert.Equal("two", await Read(a, two, twoTags, () => "two'"));
        Assert.Equal("list", await Read(a, list, Entry.Posts, () => "list'"));
        // B drops its in-process copy when the eviction reaches it; Redis already says the entry is gone.
        Assert.Equal("one'", await Read(b, one, oneTags, () => "never", local: false));
        await Eventually.Until(async () => await Read(b, one, oneTags, () => "fresh") != "one", "B kept its copy of the evicted entry");
        Assert.Equal("two", await Read(b, two, twoTags, () => "two'"));
        Assert.Equal("list", await Read(b, list, Entry.Posts, () => "list'"));
    }

    [Fact]
    public async Task A_value_read_before_a_tag_eviction_is_returned_but_not_stored()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        string[] tags = TagsOf(key, 7);
        var readTheDatabase = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> slow = a.Cache.GetOrCreateAsync(key, async _ =>
        {
            readTheDatabase.SetResult();
            await release.Task;
            return "old";
        }, tags: tags).AsTask();
        await readTheDatabase.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await b.Cache.RemoveByTagAsync(tags[1]);   // the writer saved post 7 and evicted its tag
        release.SetResult();

        Assert.Equal("old", await slow);
        await a.SettledAsync();
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal("new", await Read(a, key, tags, () => "new"));
    }

    [Fact]
    public async Task A_tag_written_within_a_region_keeps_its_counter_in_the_regions_hash_slot()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        string[] tags = TagsOf(key, 7);
        await Read(a, key, tags, () => "v");
        await a.SettledAsync();

        // The counter's first hash tag is the region's, as in the entry's key: one Lua script may touch both on a cluster.
        string counter = Entry.RedisKey("#tag:" + tags[1]);
        Assert.True(await redis.Database.KeyExistsAsync(counter));
        Assert.Equal("{posts}", counter[counter.IndexOf('{')..(counter.IndexOf('}') + 1)]);
        // Bounded: it lives no longer than the entries that carry it need (here the default lifetime), never forever.
        TimeSpan? ttl = await redis.Database.KeyTimeToLiveAsync(counter);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task A_hit_through_IMethodCache_builds_no_tags()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var cache = (IMethodCache)a.Cache;
        string key = Entry.UniqueKey();
        int built = 0, calls = 0;
        Func<int, string[]> tags = id =>
        {
            built++;
            return ["posts", $"{{posts}}:post:{id}"];
        };

        for (int i = 0; i < 3; i++)
            Assert.Equal("v", await cache.GetOrCreateAsync(Get, key, 7, (_, _) => { calls++; return ValueTask.FromResult("v"); }, tags, null, default));

        Assert.Equal(1, calls);
        Assert.Equal(1, built);
        await a.Cache.RemoveByTagAsync("{posts}:post:7");
        Assert.Equal("w", await cache.GetOrCreateAsync(Get, key, 7, (_, _) => ValueTask.FromResult("w"), tags, null, default));
    }

    [Fact]
    public async Task Calls_through_IMethodCache_label_hits_misses_and_fills_with_the_method_and_its_region()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        using var am = new MetricsRecorder(a.Hooks.Meter);
        using var bm = new MetricsRecorder(b.Hooks.Meter);
        string key = Entry.UniqueKey();

        await ((IMethodCache)a.Cache).GetOrCreateAsync(Get, key, 1, (_, _) => ValueTask.FromResult("v"), null, null, default);
        await a.SettledAsync();
        await ((IMethodCache)a.Cache).GetOrCreateAsync(Get, key, 1, (_, _) => ValueTask.FromResult("v"), null, null, default);
        await ((IMethodCache)b.Cache).GetOrCreateAsync(Get, key, 1, (_, _) => ValueTask.FromResult("v"), null, null, default);

        const string method = "method=Blog.PostService.GetAsync";
        Assert.Equal(1, am.Sum("cachegen.misses", method));
        Assert.Equal(1, am.Count("cachegen.fill.duration|" + method));
        Assert.Equal(1, am.Sum("cachegen.hits", method));
        Assert.Equal(1, bm.Sum("cachegen.hits", method));
        Assert.Equal(1, bm.Sum("cachegen.hits", "level=l2"));
        Assert.DoesNotContain(am.TagPairs.Concat(bm.TagPairs), pair => pair.Contains(key));
    }
}

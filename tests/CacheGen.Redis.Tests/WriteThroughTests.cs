using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// [UpdatesCache] as generated code runs it: BeginUpdateAsync before the write, CompleteUpdateAsync with its result.
/// The result is stored unless anything else wrote, evicted or filled the entry meanwhile; then the entry is evicted,
/// so writers that finish in the wrong order never leave the older value cached.
/// </summary>
public sealed class WriteThroughTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly CachedMethod Get = new("Blog.PostService.GetAsync", "posts", null);

    private static IMethodCache Methods(CacheInstance instance) => (IMethodCache)instance.Cache;

    private static string[] TagsOf(string key) => ["posts", "{posts}:" + key];

    /// <summary>A read through the cache; the database, if asked, says <paramref name="database"/>.</summary>
    private static async Task<(string Value, bool AskedTheDatabase)> ReadAsync(CacheInstance instance, string key, string database, bool local = true)
    {
        bool asked = false;
        string value = await instance.Cache.GetOrCreateAsync(key, _ =>
        {
            asked = true;
            return ValueTask.FromResult(database);
        }, local ? null : Entry.NoLocal, TagsOf(key));
        // A fill answers before its Redis write lands: the next step of these tests may read through another instance.
        await instance.SettledAsync();
        return (value, asked);
    }

    private static async Task WriteThroughAsync(CacheInstance instance, string key, string value)
    {
        using CacheUpdate update = await Methods(instance).BeginUpdateAsync(Get, key, TagsOf(key));
        await Methods(instance).CompleteUpdateAsync(update, value, null);
    }

    [Fact]
    public async Task A_write_through_stores_the_result_as_the_entry_on_every_instance()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await ReadAsync(b, key, "v1");

        await WriteThroughAsync(a, key, "v2");

        Assert.Equal(("v2", false), await ReadAsync(a, key, "database"));
        Assert.Equal(("v2", false), await ReadAsync(b, key, "database", local: false));
        // B's in-process copy of v1 goes when A's message arrives.
        await Eventually.Until(async () => (await ReadAsync(b, key, "database")).Value == "v2", "B to drop its copy of v1");
    }

    [Fact]
    public async Task Two_overlapping_write_throughs_on_two_instances_leave_the_entry_evicted()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        // Which write committed last is unknown to the cache: whichever completes second must not leave its value.
        using CacheUpdate first = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key));
        using CacheUpdate second = await Methods(b).BeginUpdateAsync(Get, key, TagsOf(key));
        await Methods(b).CompleteUpdateAsync(second, "second", null);
        await Methods(a).CompleteUpdateAsync(first, "first", null);

        Assert.Equal(("database", true), await ReadAsync(b, key, "database", local: false));
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.UpdateEvicted));
    }

    [Fact]
    public async Task Two_overlapping_write_throughs_on_one_instance_store_neither_value()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        using CacheUpdate first = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key));
        using CacheUpdate second = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key));
        await Methods(a).CompleteUpdateAsync(first, "first", null);
        await Methods(a).CompleteUpdateAsync(second, "second", null);

        Assert.Equal(("database", true), await ReadAsync(a, key, "database"));
    }

    [Fact]
    public async Task Overlapping_write_throughs_without_Redis_store_neither_value_and_a_later_one_stores()
    {
        await using var a = CacheInstance.Create(redis: null);
        string key = Entry.UniqueKey();

        using (CacheUpdate first = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key)))
        using (CacheUpdate second = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key)))
        {
            await Methods(a).CompleteUpdateAsync(second, "second", null);
            await Methods(a).CompleteUpdateAsync(first, "first", null);
        }
        Assert.Equal(("database", true), await ReadAsync(a, key, "database"));

        await WriteThroughAsync(a, key, "third");
        Assert.Equal(("third", false), await ReadAsync(a, key, "database"));
    }

    [Theory]
    [InlineData("region")]
    [InlineData("tag")]
    [InlineData("key")]
    [InlineData("clear")]
    public async Task An_eviction_during_a_write_through_leaves_the_entry_evicted(string kind)
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        using CacheUpdate update = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key));
        // Another writer (on another instance) committed after this one and evicted.
        await (kind switch
        {
            "region" => b.Cache.RemoveByTagAsync("posts"),
            "tag" => b.Cache.RemoveByTagAsync(TagsOf(key)[1]),
            "key" => b.Cache.RemoveAsync(key),
            _ => b.Cache.RemoveByTagAsync("*"),
        });
        await Methods(a).CompleteUpdateAsync(update, "older", null);

        Assert.Equal(("database", true), await ReadAsync(b, key, "database", local: false));
        Assert.Equal(("database", false), await ReadAsync(a, key, "unused"));
    }

    [Fact]
    public async Task A_fill_that_stored_during_a_write_through_makes_it_evict()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        using CacheUpdate update = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key));
        // A reader on B missed and read the row before the write committed: it stores the old row.
        Assert.Equal(("old row", true), await ReadAsync(b, key, "old row", local: false));
        await Methods(a).CompleteUpdateAsync(update, "new row", null);

        // Neither value is trusted: the next reader goes to the database.
        Assert.Equal(("new row", true), await ReadAsync(b, key, "new row", local: false));
    }

    [Fact]
    public async Task A_write_that_threw_does_not_hold_back_later_write_throughs()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        // The write threw: generated code disposes the update without completing it.
        CacheUpdate abandoned = await Methods(a).BeginUpdateAsync(Get, key, TagsOf(key));
        abandoned.Dispose();
        await WriteThroughAsync(a, key, "stored");

        Assert.Equal(("stored", false), await ReadAsync(a, key, "database"));
    }
}

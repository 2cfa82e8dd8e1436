using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// The stale-set race, made deterministic: instance A misses and "reads the database" (its factory), then blocks;
/// meanwhile a writer saves and evicts; then A finishes with the value it read before the save.
/// </summary>
public sealed class StaleSetTests(RedisFixture redis) : IClassFixture<RedisFixture>
{

    /// <summary>
    /// Starts A's read; returns once A's factory has read "old" and is blocked, plus the way to release it. The result
    /// is what A's caller got, once A's write has landed or been refused (the caller is answered before it does).
    /// </summary>
    private static async Task<(Task<string> Result, TaskCompletionSource Release)> StartSlowReadAsync(CacheInstance a, string key)
    {
        var readTheDatabase = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> result = ReadAndSettleAsync();
        await readTheDatabase.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return (result, release);

        async Task<string> ReadAndSettleAsync()
        {
            string value = await a.Cache.GetOrCreateAsync(key, async _ =>
            {
                const string fromTheDatabase = "old";
                readTheDatabase.SetResult();
                await release.Task;
                return fromTheDatabase;
            }, tags: Entry.Posts);
            await a.SettledAsync();
            return value;
        }
    }

    /// <summary>What a third instance reads now (the database holds "new"), and how often it had to ask the database.</summary>
    private static async Task<(string Value, int DatabaseCalls)> ReadWhereTheDatabaseSaysNewAsync(CacheInstance c, string key)
    {
        int calls = 0;
        string value = await c.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult("new"); }, tags: Entry.Posts);
        return (value, calls);
    }

    [Fact]
    public async Task A_value_read_before_a_region_eviction_is_returned_but_not_stored()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        await using var c = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        var (result, release) = await StartSlowReadAsync(a, key);
        await b.Cache.RemoveByTagAsync("posts");   // the writer saved "new" and evicted the region
        release.SetResult();

        Assert.Equal("old", await result);
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal(("new", 1), await ReadWhereTheDatabaseSaysNewAsync(c, key));
    }

    [Fact]
    public async Task A_value_read_before_a_region_eviction_does_not_replace_a_stale_entry_either()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        // An older value sits in Redis, already invalidated: A reads its stamp, then the region moves on again.
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("older"), tags: Entry.Posts);
        await b.SettledAsync();
        await b.Cache.RemoveByTagAsync("posts");

        var (result, release) = await StartSlowReadAsync(a, key);
        await b.Cache.RemoveByTagAsync("posts");
        release.SetResult();

        Assert.Equal("old", await result);
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), Entry.NoLocal, Entry.Posts));
    }

    [Fact]
    public async Task A_value_read_before_a_single_entry_eviction_is_returned_but_not_stored()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        await using var c = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        var (result, release) = await StartSlowReadAsync(a, key);
        await b.Cache.RemoveAsync(key);   // the tombstone changes what is under the key
        release.SetResult();

        Assert.Equal("old", await result);
        byte[]? stored = await redis.Database.StringGetAsync(Entry.RedisKey(key));
        Assert.Equal(2, stored![0]);   // still the tombstone, not A's value
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal(("new", 1), await ReadWhereTheDatabaseSaysNewAsync(c, key));
    }

    [Fact]
    public async Task A_single_entry_eviction_on_the_same_instance_keeps_the_in_flight_value_out_of_its_memory()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        var (result, release) = await StartSlowReadAsync(a, key);
        await a.Cache.RemoveAsync(key);
        release.SetResult();

        Assert.Equal("old", await result);
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
    }

    [Fact]
    public async Task The_same_interleaving_without_an_eviction_stores_the_value()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var c = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        var (result, release) = await StartSlowReadAsync(a, key);
        release.SetResult();

        Assert.Equal("old", await result);
        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal(("old", 0), await ReadWhereTheDatabaseSaysNewAsync(c, key));
    }

    [Fact]
    public async Task A_concurrent_write_by_another_instance_wins_over_a_slower_one()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        var (result, release) = await StartSlowReadAsync(a, key);
        await b.Cache.SetAsync(key, "set meanwhile", tags: Entry.Posts);
        release.SetResult();

        Assert.Equal("old", await result);
        Assert.Equal("set meanwhile", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("x"), Entry.NoLocal, Entry.Posts));
    }
}

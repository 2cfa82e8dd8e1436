using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// The HybridCache contract of the remove methods: null collections and null or empty names in them are nothing to
/// remove (as Microsoft's HybridCache treats them), and <c>RemoveByTagAsync("*")</c> clears every entry of the prefix
/// and version in Redis too, for every instance, including fills that were running when it was called.
/// </summary>
public sealed class RemoveContractTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    [Fact]
    public async Task Null_and_empty_names_are_skipped_and_the_others_are_removed()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey(), tagged = Entry.UniqueKey("nulltags");
        await instance.Cache.GetOrCreateAsync(key, Returns("old"), tags: Entry.Posts);
        await instance.Cache.GetOrCreateAsync(tagged, Returns("old"), tags: ["nulltags"]);

        await instance.Cache.RemoveAsync(new[] { null!, key });
        await instance.Cache.RemoveAsync((IEnumerable<string>)null!);
        await instance.Cache.RemoveByTagAsync(new[] { null!, "", "nulltags" });
        await instance.Cache.RemoveByTagAsync((IEnumerable<string>)null!);
        await instance.Cache.RemoveByTagAsync((string)null!);
        await instance.Cache.RemoveByTagAsync("");
        await instance.Cache.RemoveByTagAsync(new List<string?> { null }!);

        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, Returns("new"), tags: Entry.Posts));
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(tagged, Returns("new"), tags: ["nulltags"]));
    }

    [Fact]
    public async Task Clearing_everything_clears_redis_for_a_new_instance_too()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string[] keys = [Entry.UniqueKey(), Entry.UniqueKey("users"), "plain:" + Guid.NewGuid().ToString("N")];
        string[][] tags = [Entry.Posts, Entry.Users, []];
        for (int i = 0; i < keys.Length; i++)
            await a.Cache.GetOrCreateAsync(keys[i], Returns("old"), Entry.NoLocal, tags[i]);
        await a.SettledAsync();

        await a.Cache.RemoveByTagAsync("*");

        await using var c = CacheInstance.Create(redis.Configuration);
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal("new", await c.Cache.GetOrCreateAsync(keys[i], Returns("new"), Entry.NoLocal, tags[i]));
            int calls = 0;
            Assert.Equal("new", await c.Cache.GetOrCreateAsync(keys[i], Returns("again", () => calls++), Entry.NoLocal, tags[i]));
            Assert.Equal(0, calls);
        }
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(keys[2], Returns("recomputed"), tags: []));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_fill_that_started_before_a_clear_is_not_stored(bool tagged)
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = tagged ? Entry.UniqueKey() : "plain:" + Guid.NewGuid().ToString("N");
        string[] tags = tagged ? Entry.Posts : [];
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        ValueTask<string> slow = a.Cache.GetOrCreateAsync(key, async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "computed before the clear";
        }, Entry.NoLocal, tags);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await b.Cache.RemoveByTagAsync("*");
        release.SetResult();
        Assert.Equal("computed before the clear", await slow);
        // The caller is answered before A's guarded write lands (and is refused): look once it has.
        await a.SettledAsync();

        await using var c = CacheInstance.Create(redis.Configuration);
        Assert.Equal("new", await c.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, tags));
    }
}

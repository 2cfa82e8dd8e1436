using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>One Microsoft Garnet server with Lua on for the class, and a plain client on its database 0.</summary>
public sealed class GarnetFixture : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _client;

    public GarnetFixture() => _client = new(() => ConnectionMultiplexer.Connect(Server.Configuration + ",abortConnect=false"));

    public GarnetServer Server { get; } = GarnetServer.Start(lua: true);

    public IDatabase Database => _client.Value.GetDatabase(0);

    public void Dispose()
    {
        if (_client.IsValueCreated)
            _client.Value.Dispose();
        Server.Dispose();
    }
}

/// <summary>
/// What the contract suite's Garnet row does not reach, on Garnet with Lua on: the stale-set guard across instances
/// (StaleSetTests' interleaving) and fail-safe across instances (ResilienceTests'), each beside the same interleaving
/// without the eviction, so a guard that stored nothing would not pass.
/// </summary>
public sealed class GarnetTests(GarnetFixture garnet) : IClassFixture<GarnetFixture>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private static readonly CachedMethod FailSafe = new("Blog.PostService.GetAsync", "posts", new() { Expiration = Lifetime })
    {
        StaleFor = TimeSpan.FromSeconds(60),
    };

    private CacheInstance Instance(TimeProvider? clock = null) => CacheInstance.Create(garnet.Server.Configuration, time: clock);

    /// <summary>A's read has asked the database ("old") and is held; the result is A's answer once its write settled.</summary>
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
                readTheDatabase.SetResult();
                await release.Task;
                return "old";
            }, tags: Entry.Posts);
            await a.SettledAsync();
            return value;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_value_read_before_another_instances_eviction_is_returned_but_not_stored(bool evicted)
    {
        await using var a = Instance();
        await using var b = Instance();
        await using var c = Instance();
        string key = Entry.UniqueKey();

        var (result, release) = await StartSlowReadAsync(a, key);
        if (evicted)
            await b.Cache.RemoveByTagAsync("posts");   // the writer saved "new" and evicted the region
        release.SetResult();

        Assert.Equal("old", await result);
        int calls = 0;
        string read = await c.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult("new"); }, tags: Entry.Posts);
        if (evicted)
        {
            Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
            Assert.Equal(("new", 1), (read, calls));
        }
        else
        {
            // Without the eviction the same write lands, and another instance reads it from Garnet.
            Assert.True(await garnet.Database.KeyExistsAsync(Entry.RedisKey(key)));
            Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
            Assert.Equal(("old", 0), (read, calls));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Evicting_many_keys_or_tags_at_once_reaches_garnet(bool byTag)
    {
        await using var a = Instance();
        string[] keys = [Entry.UniqueKey(), Entry.UniqueKey(), Entry.UniqueKey()];
        foreach (string key in keys)
            await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: ["posts", key + ":tag"]);
        await a.SettledAsync();

        await (byTag ? a.Cache.RemoveByTagAsync(keys.Select(k => k + ":tag")) : a.Cache.RemoveAsync(keys));

        Assert.Equal(0, a.Hooks.PendingEvictionCount);
        await using var b = Instance();
        foreach (string key in keys)
            Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: ["posts", key + ":tag"]));
    }

    [Fact]
    public async Task A_batch_takes_and_releases_its_fill_leases_on_garnet()
    {
        await using var a = CacheInstance.Create(garnet.Server.Configuration, o => o.DistributedStampedeProtection = true);
        string prefix = Entry.UniqueKey() + ":";
        bool leased = false;
        Dictionary<int, string> values = await a.Cache.GetOrCreateManyAsync([1, 2, 3], id => prefix + id, async (missed, _) =>
        {
            leased = await garnet.Database.KeyExistsAsync("example:1:#lease:" + prefix + 1);
            return (IReadOnlyDictionary<int, string>)missed.ToDictionary(id => id, id => "v" + id);
        }, tags: _ => Entry.Posts);

        Assert.Equal(3, values.Count);
        Assert.True(leased, "the batch loaded without its lease");
        await Eventually.Until(async () => !await garnet.Database.KeyExistsAsync("example:1:#lease:" + prefix + 1), "the lease to be released");
    }

    private static ValueTask<string> Read(CacheInstance instance, string key, Func<ValueTask<string>> source) =>
        ((IMethodCache)instance.Cache).GetOrCreateAsync(FailSafe, key, source, static (s, _) => s(), static _ => ["posts"], null, default);

    private static ValueTask<string> Down() => throw new InvalidOperationException("the database is down");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_expired_value_is_served_from_garnet_when_the_data_call_fails_unless_it_was_evicted(bool evicted)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var a = Instance(clock);
        await using var b = Instance(clock);
        string key = Entry.UniqueKey();
        Assert.Equal("v1", await Read(a, key, () => new("v1")));
        await a.SettledAsync();
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        if (evicted)
            await a.Cache.RemoveByTagAsync("posts");

        // b never held it: the expired value comes from Garnet, which keeps it for the stale window.
        if (evicted)
            await Assert.ThrowsAsync<InvalidOperationException>(() => Read(b, key, Down).AsTask());
        else
            Assert.Equal("v1", await Read(b, key, Down));
    }
}

using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// CacheGen.Redis on a real three-master Redis Cluster: read-through, both evictions, the stale-set guard, the
/// backplane and both kinds of stampede protection. The regions are chosen so that their entries live on three
/// different masters (asserted), so every scenario crosses nodes.
/// </summary>
public sealed class ClusterTests(RedisClusterFixture redis) : IClassFixture<RedisClusterFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    /// <summary>With redis-cli's slot allocation these three hash to the first, second and third master.</summary>
    private static readonly string[] Regions = ["authors", "posts", "users"];

    private CacheInstance Instance(Action<CacheGenOptions>? configure = null) => CacheInstance.Create(redis.Configuration, configure);

    private static string GenerationKey(string region) => $"example:1:#gen:{{{region}}}";

    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    [Fact]
    public async Task Another_instance_reads_entries_from_three_masters_and_each_entry_lives_beside_its_generation()
    {
        await using var a = Instance();
        await using var b = Instance();
        using var metricsB = new MetricsRecorder(b.Hooks.Meter);
        Dictionary<string, string> keys = Regions.ToDictionary(r => r, r => Entry.UniqueKey(r));

        foreach ((string region, string key) in keys)
            await a.Cache.GetOrCreateAsync(key, Returns("value of " + region), tags: [region]);
        await a.SettledAsync();
        int calls = 0;
        foreach ((string region, string key) in keys)
            Assert.Equal("value of " + region, await b.Cache.GetOrCreateAsync(key, Returns("recomputed", () => calls++), tags: [region]));

        Assert.Equal(0, calls);
        Assert.Equal(3, metricsB.Sum("cachegen.hits", "level=l2"));
        RedisServer[] masters = keys.Values.Select(k => redis.Cluster.MasterOf(Entry.RedisKey(k))).ToArray();
        Assert.Equal(3, masters.Distinct().Count());
        foreach ((string region, string key) in keys)
        {
            // Read on the node itself, not through a client that follows redirections: the hash tag put both keys there.
            RedisServer master = redis.Cluster.MasterOf(Entry.RedisKey(key));
            Assert.Equal(redis.Cluster.KeySlot(Entry.RedisKey(key)), redis.Cluster.KeySlot(GenerationKey(region)));
            Assert.Equal("1", master.Cli("EXISTS", Entry.RedisKey(key)));
            Assert.Equal("1", master.Cli("EXISTS", GenerationKey(region)));
        }
        Assert.All(redis.Cluster.LiveNodes, node => Assert.True(RedisCluster.KeyCount(node) >= 2, $"node {node.Port} holds no entry"));
    }

    [Fact]
    public async Task A_region_eviction_bumps_the_generation_on_its_master_and_leaves_the_other_masters_regions_alone()
    {
        await using var a = Instance();
        await using var b = Instance();
        Dictionary<string, string> keys = Regions.ToDictionary(r => r, r => Entry.UniqueKey(r));
        foreach ((string region, string key) in keys)
            await a.Cache.GetOrCreateAsync(key, Returns("old"), tags: [region]);
        await a.SettledAsync();
        RedisServer usersMaster = redis.Cluster.MasterOf(GenerationKey("users"));
        long generation = long.Parse(usersMaster.Cli("GET", GenerationKey("users")));

        await a.Cache.RemoveByTagAsync("users");

        Assert.Equal(generation + 1, long.Parse(usersMaster.Cli("GET", GenerationKey("users"))));
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(keys["users"], Returns("new"), Entry.NoLocal, ["users"]));
        await b.SettledAsync();
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(keys["users"], Returns("newer"), tags: ["users"]));
        int calls = 0;
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(keys["authors"], Returns("x", () => calls++), Entry.NoLocal, ["authors"]));
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(keys["posts"], Returns("x", () => calls++), Entry.NoLocal, ["posts"]));
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task A_single_entry_eviction_leaves_a_tombstone_on_the_entrys_master()
    {
        await using var a = Instance();
        await using var b = Instance();
        string evicted = Entry.UniqueKey("authors");
        string kept = Entry.UniqueKey("authors");
        await a.Cache.GetOrCreateAsync(evicted, Returns("old"), tags: ["authors"]);
        await a.Cache.GetOrCreateAsync(kept, Returns("kept"), tags: ["authors"]);
        await a.SettledAsync();

        await a.Cache.RemoveAsync(evicted);

        byte[]? tombstone = await redis.Database.StringGetAsync(Entry.RedisKey(evicted));
        Assert.Equal(9, tombstone!.Length);
        Assert.Equal(2, tombstone[0]);
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(evicted, Returns("new"), Entry.NoLocal, ["authors"]));
        Assert.Equal("kept", await b.Cache.GetOrCreateAsync(kept, Returns("recomputed"), Entry.NoLocal, ["authors"]));
    }

    [Fact]
    public async Task Clearing_everything_reaches_entries_on_every_master_and_fills_running_across_it()
    {
        await using var a = Instance();
        await using var b = Instance();
        Dictionary<string, string> keys = Regions.ToDictionary(r => r, r => Entry.UniqueKey(r));
        foreach ((string region, string key) in keys)
            await a.Cache.GetOrCreateAsync(key, Returns("old"), Entry.NoLocal, [region]);
        string plain = "plain:" + Guid.NewGuid().ToString("N");
        await a.Cache.GetOrCreateAsync(plain, Returns("old"), Entry.NoLocal);
        await a.SettledAsync();
        string slowKey = Entry.UniqueKey("users");
        (Task<string> slow, TaskCompletionSource release) = await StartSlowReadAsync(a, slowKey, "users");

        await b.Cache.RemoveByTagAsync("*");
        release.SetResult();
        Assert.Equal("old", await slow.WaitAsync(HangGuard));

        await using var c = Instance();
        foreach ((string region, string key) in keys)
            Assert.Equal("new", await c.Cache.GetOrCreateAsync(key, Returns("new"), Entry.NoLocal, [region]));
        Assert.Equal("new", await c.Cache.GetOrCreateAsync(plain, Returns("new"), Entry.NoLocal));
        Assert.Equal("new", await c.Cache.GetOrCreateAsync(slowKey, Returns("new"), Entry.NoLocal, ["users"]));
        int calls = 0;
        foreach ((string region, string key) in keys)
            Assert.Equal("new", await c.Cache.GetOrCreateAsync(key, Returns("again", () => calls++), Entry.NoLocal, [region]));
        Assert.Equal(0, calls);
        Assert.Equal(BreakerState.Closed, b.Hooks.RedisBreakerState);
        Assert.Equal(0, b.Hooks.PendingEvictionCount);
    }

    /// <summary>
    /// A's factory has read "old" from the database and is held; returns its result (once A's write has landed or
    /// been refused: the caller is answered before) and the way to release it.
    /// </summary>
    private static async Task<(Task<string> Result, TaskCompletionSource Release)> StartSlowReadAsync(CacheInstance a, string key, string region)
    {
        var readTheDatabase = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> result = ReadAndSettleAsync();
        await readTheDatabase.Task.WaitAsync(HangGuard);
        return (result, release);

        async Task<string> ReadAndSettleAsync()
        {
            string value = await a.Cache.GetOrCreateAsync(key, async _ =>
            {
                readTheDatabase.SetResult();
                await release.Task;
                return "old";
            }, tags: [region]);
            await a.SettledAsync();
            return value;
        }
    }

    [Theory]
    [InlineData("authors", true)]
    [InlineData("posts", false)]
    [InlineData("users", true)]
    public async Task A_value_read_before_an_eviction_by_another_instance_is_returned_but_not_stored(string region, bool regionEviction)
    {
        await using var a = Instance();
        await using var b = Instance();
        await using var c = Instance();
        string key = Entry.UniqueKey(region);

        var (result, release) = await StartSlowReadAsync(a, key, region);
        if (regionEviction)
            await b.Cache.RemoveByTagAsync(region);
        else
            await b.Cache.RemoveAsync(key);
        release.SetResult();

        Assert.Equal("old", await result.WaitAsync(HangGuard));
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        byte[]? stored = await redis.Database.StringGetAsync(Entry.RedisKey(key));
        if (regionEviction)
            Assert.Null(stored);
        else
            Assert.Equal(2, stored![0]);   // still the tombstone
        int calls = 0;
        Assert.Equal("new", await c.Cache.GetOrCreateAsync(key, Returns("new", () => calls++), tags: [region]));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Without_an_eviction_the_held_value_is_stored()
    {
        await using var a = Instance();
        await using var c = Instance();
        string key = Entry.UniqueKey("users");

        var (result, release) = await StartSlowReadAsync(a, key, "users");
        release.SetResult();

        Assert.Equal("old", await result.WaitAsync(HangGuard));
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal("old", await c.Cache.GetOrCreateAsync(key, Returns("new"), tags: ["users"]));
    }

    [Fact]
    public async Task An_eviction_message_arriving_while_an_L2_read_is_held_keeps_the_old_value_out_of_L1()
    {
        string key = Entry.UniqueKey("posts");
        var readDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = Instance(o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await using var b = Instance(o =>
        {
            o.LocalCacheExpiration = TimeSpan.FromMinutes(1);
        });
        b.Hooks.AfterRedisRead = async k =>
        {
            if (k != key || readDone.Task.IsCompleted)
                return;
            readDone.SetResult();
            await release.Task;
        };
        // This eviction's own message, not any message: only then is B's in-process tag known to have moved on.
        var evictionApplied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Hooks.BackplaneMessageApplied = (kind, name) =>
        {
            if (kind == 't' && name == "posts")
                evictionApplied.TrySetResult();
        };
        await b.Hooks.BackplaneReady.WaitAsync(HangGuard);
        await a.Cache.GetOrCreateAsync(key, Returns("old"), tags: ["posts"]);
        await a.SettledAsync();

        Task<string> inFlight = b.Cache.GetOrCreateAsync(key, Returns("computed by B"), tags: ["posts"]).AsTask();
        await readDone.Task.WaitAsync(HangGuard);
        await a.Cache.RemoveByTagAsync("posts");
        await evictionApplied.Task.WaitAsync(HangGuard);
        release.SetResult();

        Assert.Equal("old", await inFlight.WaitAsync(HangGuard));
        Assert.Equal(0, b.Hooks.LocalCount);
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, Returns("new"), tags: ["posts"]));
    }

    /// <summary>Reads through <paramref name="instance"/>'s in-process cache until it stops returning <paramref name="old"/>.</summary>
    private static async Task<string> ReadUntilChanged(CacheInstance instance, string key, string[] tags, string old, string computed)
    {
        var clock = Stopwatch.StartNew();
        string value;
        do
        {
            value = await instance.Cache.GetOrCreateAsync(key, Returns(computed), tags: tags);
            if (value != old)
                break;
            await Task.Delay(20);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(5));
        return value;
    }

    [Fact]
    public async Task The_backplane_carries_evictions_between_instances_across_the_cluster()
    {
        // In-process copies live a minute here: only a message explains one going away during the test.
        await using var a = Instance(o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await using var b = Instance(o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await a.Hooks.BackplaneReady.WaitAsync(HangGuard);
        await b.Hooks.BackplaneReady.WaitAsync(HangGuard);
        Dictionary<string, string> keys = Regions.ToDictionary(r => r, r => Entry.UniqueKey(r));
        foreach ((string region, string key) in keys)
            await b.Cache.GetOrCreateAsync(key, Returns("old"), tags: [region]);
        await b.SettledAsync();

        await a.Cache.RemoveByTagAsync("posts");
        await a.Cache.RemoveAsync(keys["users"]);

        Assert.Equal("new", await ReadUntilChanged(b, keys["posts"], ["posts"], "old", "new"));
        Assert.Equal("new", await ReadUntilChanged(b, keys["users"], ["users"], "old", "new"));
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(keys["authors"], Returns("new"), tags: ["authors"]));

        // Pub/sub is cluster-wide: a message published on a node where no instance subscribed still arrives.
        const string channel = "example:1:cachegen:evict";
        RedisServer elsewhere = redis.Cluster.LiveNodes.First(n => n.Cli("PUBSUB", "NUMSUB", channel).EndsWith("\n0", StringComparison.Ordinal));
        int applied = b.Hooks.BackplaneMessagesApplied;
        using var metricsB = new MetricsRecorder(b.Hooks.Meter);
        elsewhere.Cli("PUBLISH", channel, "another-instance:t:authors");
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied > applied, "the message from another node to reach B");
        // B dropped its in-process copy; Redis still has the entry (the message moved no generation there).
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(keys["authors"], Returns("new"), tags: ["authors"]));
        Assert.Equal(0, metricsB.Sum("cachegen.hits", "level=l1"));
        Assert.Equal(1, metricsB.Sum("cachegen.hits", "level=l2"));
    }

    [Fact]
    public async Task Concurrent_callers_on_one_instance_run_the_factory_once_per_key()
    {
        await using var instance = Instance();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<string>> slow = async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return "slow";
        };
        string[] keys = Regions.Select(r => Entry.UniqueKey(r)).ToArray();

        Task<string>[] waiting = keys.SelectMany((key, i) => Enumerable.Range(0, 100)
            .Select(_ => instance.Cache.GetOrCreateAsync(key, slow, tags: [Regions[i]]).AsTask())).ToArray();
        release.SetResult();
        string[] results = await Task.WhenAll(waiting).WaitAsync(HangGuard);

        Assert.Equal(3, calls);
        Assert.All(results, r => Assert.Equal("slow", r));
    }

    [Theory]
    [InlineData("authors")]
    [InlineData("posts")]
    [InlineData("users")]
    public async Task With_distributed_protection_two_instances_run_the_factory_once_and_the_lease_shares_the_entrys_slot(string region)
    {
        Action<CacheGenOptions> options = o =>
        {
            o.DistributedStampedeProtection = true;
            o.DistributedLockTimeout = TimeSpan.FromSeconds(30);
        };
        await using var a = Instance(options);
        await using var b = Instance(options);
        string key = Entry.UniqueKey(region);
        string lease = "example:1:#lease:" + key;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<string>> slow = async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return "slow";
        };

        Task<string>[] onA = Enumerable.Range(0, 50).Select(_ => a.Cache.GetOrCreateAsync(key, slow, tags: [region]).AsTask()).ToArray();
        Task<string>[] onB = Enumerable.Range(0, 50).Select(_ => b.Cache.GetOrCreateAsync(key, slow, tags: [region]).AsTask()).ToArray();
        // Hold the factory until both instances are committed: one runs it, the other waits on its lease.
        await Eventually.Until(() => Volatile.Read(ref calls) + a.Hooks.DistributedWaits + b.Hooks.DistributedWaits >= 2,
            "both instances to run the factory or wait for the lease");
        Assert.Equal(redis.Cluster.KeySlot(Entry.RedisKey(key)), redis.Cluster.KeySlot(lease));
        Assert.True(await redis.Database.KeyExistsAsync(lease));
        release.SetResult();
        string[] results = await Task.WhenAll(onA.Concat(onB)).WaitAsync(HangGuard);
        // The lease is released once the write has landed, after the callers were answered.
        await a.SettledAsync();
        await b.SettledAsync();

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("slow", r));
        Assert.False(await redis.Database.KeyExistsAsync(lease));
    }

    /// <summary>
    /// An entry whose tags hash to different slots (possible with HybridCache, not with one region per [Cached]) cannot
    /// be read and written by one script on a cluster. It is served and cached in-process, stays out of Redis, is not a
    /// Redis failure, is logged once, and its tags still evict it on every instance.
    /// </summary>
    [Fact]
    public async Task An_entry_whose_tags_span_slots_is_cached_in_process_only_without_an_error()
    {
        await using var a = Instance(o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await using var b = Instance(o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await a.Hooks.BackplaneReady.WaitAsync(HangGuard);
        await b.Hooks.BackplaneReady.WaitAsync(HangGuard);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        string[] tags = ["posts", "users"];
        Assert.NotEqual(redis.Cluster.KeySlot(GenerationKey("posts")), redis.Cluster.KeySlot(GenerationKey("users")));
        string key = Entry.UniqueKey("posts");
        var factory = new CountingFactory<string>(n => "v" + n);

        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, tags: tags));
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, tags: tags));
        await a.Cache.SetAsync(Entry.UniqueKey("posts"), "set", tags: tags);
        Assert.Equal("b", await b.Cache.GetOrCreateAsync(key, Returns("b"), tags: tags));

        Assert.Equal(1, factory.Calls);
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
        Assert.DoesNotContain(a.Logs.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Error || l.EventId.Id == CacheGenLogEvents.RedisReadFailed);
        LogLine logged = Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.EntrySpansClusterSlots));
        Assert.Contains("posts, users", logged.Message);

        // Either tag evicts it here and, through the backplane, on the other instance.
        await a.Cache.RemoveByTagAsync("users");
        Assert.Equal("v2", await a.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, tags: tags));
        Assert.Equal("b2", await ReadUntilChanged(b, key, tags, "b", "b2"));
    }

    [Theory]
    [InlineData("authors")]
    [InlineData("posts")]
    [InlineData("users")]
    public async Task An_entry_with_tags_written_within_its_region_lives_in_Redis_and_a_tag_eviction_reaches_it_on_every_instance(string region)
    {
        await using var a = Instance();
        await using var b = Instance();
        await a.Hooks.BackplaneReady.WaitAsync(HangGuard);
        await b.Hooks.BackplaneReady.WaitAsync(HangGuard);
        string key = Entry.UniqueKey(region);
        string[] tags = [region, $"{{{region}}}:post:7", $"{{{region}}}:author:3"];
        using var metrics = new MetricsRecorder(a.Hooks.Meter);

        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, Returns("v1"), tags: tags));
        await a.SettledAsync();
        // Generated tags keep their region's hash slot: the entry is stored in Redis, readable by another instance.
        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal(redis.Cluster.KeySlot(GenerationKey(region)), redis.Cluster.KeySlot($"example:1:#tag:{tags[1]}"));
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync(key, Returns("unused"), Entry.NoLocal, tags));
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.EntrySpansClusterSlots));

        await a.Cache.RemoveByTagAsync(tags[2]);

        Assert.Equal("v2", await b.Cache.GetOrCreateAsync(key, Returns("v2"), Entry.NoLocal, tags));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
    }
}

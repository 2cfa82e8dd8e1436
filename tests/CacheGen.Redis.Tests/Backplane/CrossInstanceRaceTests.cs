using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// The races between instances that the consistency checker can only hit by chance, each forced deterministically:
/// a guarded write that lands late, an eviction message that overtakes an L2 read, and a lost pub/sub connection.
/// </summary>
public sealed class CrossInstanceRaceTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    /// <summary>
    /// For the instance behind the relay: a write the relay holds is neither timed out nor given up as a frozen Redis
    /// (Redis answers nothing to this instance while its write is held) before the test releases it.
    /// </summary>
    private static void HoldsWrites(CacheGenOptions options)
    {
        options.RedisTimeout = TimeSpan.FromSeconds(30);
        options.RedisStallTimeout = TimeSpan.FromSeconds(30);
    }

    [Fact]
    public async Task A_write_held_in_the_network_that_lands_after_another_instance_evicted_is_rejected()
    {
        // A talks to Redis through a relay; its guarded SET is sent after the eviction started... and held until after it.
        await using var relay = new TcpRelay(redis.Server.Port);
        await using var a = CacheInstance.Create(relay.Configuration, HoldsWrites);
        await using var b = CacheInstance.Create(redis.Configuration);
        await using var c = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        // A's write script is on the wire (in the relay), not yet executed; the caller has its answer already: a write
        // held in the network holds no caller.
        Assert.Equal("old", await MissWithHeldWriteAsync(relay, a, key, options: null));

        await b.Cache.RemoveByTagAsync("posts");   // the writer saved and evicted, while A's write was in the network
        relay.Resume();

        await a.SettledAsync();
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal("new", await c.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
    }

    [Fact]
    public async Task The_same_held_write_without_an_eviction_is_stored()
    {
        await using var relay = new TcpRelay(redis.Server.Port);
        await using var a = CacheInstance.Create(relay.Configuration, HoldsWrites);
        await using var c = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        Assert.Equal("old", await MissWithHeldWriteAsync(relay, a, key, options: null));
        relay.Resume();

        await a.SettledAsync();
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal("old", await c.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
    }

    /// <summary>
    /// A miss on <paramref name="a"/> whose data call reads "old" and whose guarded write the relay then holds (the relay
    /// pauses once the data call runs); returns what the caller got, once its write is held.
    /// </summary>
    private static async Task<string> MissWithHeldWriteAsync(TcpRelay relay, CacheInstance a, string key, HybridCacheEntryOptions? options)
    {
        var readTheDatabase = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> result = a.Cache.GetOrCreateAsync(key, async _ =>
        {
            readTheDatabase.SetResult();
            await release.Task;
            return "old";
        }, options, Entry.Posts).AsTask();
        await readTheDatabase.Task.WaitAsync(HangGuard);
        relay.Pause();
        release.SetResult();
        await Eventually.Until(() => relay.Held.Contains("EVAL", StringComparison.Ordinal), "the guarded write to reach the relay");
        return await result.WaitAsync(HangGuard);
    }

    [Fact]
    public async Task A_caller_that_comes_while_a_fill_is_only_writing_reads_redis_behind_the_write_rather_than_joining_it()
    {
        await using var relay = new TcpRelay(redis.Server.Port);
        await using var a = CacheInstance.Create(relay.Configuration, HoldsWrites);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        string key = Entry.UniqueKey();
        Assert.Equal("old", await MissWithHeldWriteAsync(relay, a, key, Entry.NoLocal));

        // L1 off: the fill's value is not this caller's to take from memory. Its read queues behind the write.
        Task<string> second = a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("recomputed"), Entry.NoLocal, Entry.Posts).AsTask();
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        relay.Resume();

        Assert.Equal("old", await second.WaitAsync(HangGuard));
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l2"));
        Assert.Equal(0, metrics.Sum("cachegen.stampede.joins"));
    }

    [Fact]
    public async Task Disposing_waits_for_a_write_still_on_its_way_so_the_entry_is_left_for_other_instances()
    {
        await using var relay = new TcpRelay(redis.Server.Port);
        var a = CacheInstance.Create(relay.Configuration, HoldsWrites);
        string key = Entry.UniqueKey();
        Assert.Equal("old", await MissWithHeldWriteAsync(relay, a, key, Entry.NoLocal));

        Task disposing = a.DisposeAsync().AsTask();
        await Task.Delay(200);
        Assert.False(disposing.IsCompleted);
        relay.Resume();
        await disposing.WaitAsync(HangGuard);

        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
    }

    /// <summary>B reads "old" from Redis; the read is held after Redis answered while <paramref name="evict"/> runs.</summary>
    private async Task AssertAnEvictionDuringTheL2ReadKeepsTheValueOutOfL1(bool fromAnotherInstance)
    {
        string key = Entry.UniqueKey();
        var readDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await using var b = CacheInstance.Create(redis.Configuration, o =>
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
        await b.Hooks.BackplaneReady.WaitAsync(HangGuard);
        await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        // B reads A's entry from Redis: A's write must have landed.
        await a.SettledAsync();

        Task<string> inFlight = b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("computed by B"), tags: Entry.Posts).AsTask();
        await readDone.Task.WaitAsync(HangGuard);
        if (fromAnotherInstance)
        {
            int applied = b.Hooks.BackplaneMessagesApplied;
            await a.Cache.RemoveByTagAsync("posts");
            await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied > applied, "the eviction message to reach B");
        }
        else
        {
            await b.Cache.RemoveByTagAsync("posts");
        }
        release.SetResult();

        // The read overlapped the eviction, so "old" is a fair answer for it; but L1 must not keep it.
        Assert.Equal("old", await inFlight.WaitAsync(HangGuard));
        Assert.Equal(0, b.Hooks.LocalCount);
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
    }

    [Fact]
    public async Task An_eviction_message_arriving_while_an_L2_read_is_in_flight_keeps_the_old_value_out_of_L1()
    {
        await AssertAnEvictionDuringTheL2ReadKeepsTheValueOutOfL1(fromAnotherInstance: true);
    }

    [Fact]
    public async Task A_local_eviction_while_an_L2_read_is_in_flight_keeps_the_old_value_out_of_L1()
    {
        await AssertAnEvictionDuringTheL2ReadKeepsTheValueOutOfL1(fromAnotherInstance: false);
    }

    /// <summary>
    /// An eviction on B is held after its in-process step and before Redis has it; a read on B in that window reads
    /// the old entry from Redis. Once the eviction returns, B's L1 must not hold that value.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_read_between_the_local_and_the_redis_step_of_an_eviction_keeps_the_old_value_out_of_L1(bool region)
    {
        string key = Entry.UniqueKey();
        var evicting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var b = CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        b.Hooks.BeforeRedisEviction = async _ =>
        {
            evicting.TrySetResult();
            await release.Task;
        };
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        await b.SettledAsync();

        Task eviction = region ? b.Cache.RemoveByTagAsync("posts").AsTask() : b.Cache.RemoveAsync(key).AsTask();
        await evicting.Task.WaitAsync(HangGuard);
        // Concurrent with the eviction, so "old" (still in Redis) is a fair answer.
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("computed"), tags: Entry.Posts));
        release.SetResult();
        await eviction.WaitAsync(HangGuard);

        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
    }

    /// <summary>As above, for an eviction of many keys or many tags at once.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_read_between_the_local_and_the_redis_step_of_an_eviction_of_many_keeps_the_old_value_out_of_L1(bool byTag)
    {
        string key = Entry.UniqueKey();
        var evicting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var b = CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        b.Hooks.BeforeRedisEviction = async _ =>
        {
            evicting.TrySetResult();
            await release.Task;
        };
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        await b.SettledAsync();

        Task eviction = byTag
            ? b.Cache.RemoveByTagAsync(["posts", "users"]).AsTask()
            : b.Cache.RemoveAsync([key, Entry.UniqueKey()]).AsTask();
        await evicting.Task.WaitAsync(HangGuard);
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("computed"), tags: Entry.Posts));
        release.SetResult();
        await eviction.WaitAsync(HangGuard);

        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
    }

    [Fact]
    public async Task When_the_pubsub_connection_is_killed_the_instance_flushes_L1_and_resubscribes()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await a.Hooks.BackplaneReady.WaitAsync(HangGuard);
        await b.Hooks.BackplaneReady.WaitAsync(HangGuard);
        string key = Entry.UniqueKey();
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        // B's write lands first: a write the generation below overtook would be refused and drop B's copy.
        await b.SettledAsync();
        // An eviction whose message B never gets (as if published while B's subscription was down): only the
        // generation in Redis moves. B's L1 still answers "old" -- the copy the flush must drop.
        await redis.Database.StringIncrementAsync("example:1:#gen:{posts}");
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));

        string killed = redis.Cli("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(int.Parse(killed) >= 2, "CLIENT KILL TYPE pubsub killed " + killed);
        await Eventually.Until(() => b.Hooks.BackplaneResubscriptions >= 1 && a.Hooks.BackplaneResubscriptions >= 1, "both subscriptions to come back");

        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
        Assert.NotEmpty(b.Logs.WithEventId(CacheGenLogEvents.LocalCacheFlushedOnDisconnect));
        Assert.NotEmpty(b.Logs.WithEventId(CacheGenLogEvents.BackplaneResubscribed));

        // Subscribed again: an eviction by A reaches B's L1 at once (its local lifetime is a minute).
        await a.Cache.RemoveByTagAsync("posts");
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied >= 1, "A's eviction to reach B");
        Assert.Equal("newer", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("newer"), tags: Entry.Posts));
    }

    [Fact]
    public async Task The_L1_lifetime_counts_from_when_the_fill_started_so_a_lost_message_is_bounded_by_it()
    {
        // A value read at t=0 is what a lost eviction at t>0 leaves behind; it must be gone by t=5 s however slow the fill was.
        var time = new FakeTimeProvider();
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.FromSeconds(5), time);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        // A region of its own: tests running beside it evict "posts" on the same Redis, which would drop this copy.
        string region = "lifetime" + Guid.NewGuid().ToString("N");
        string[] tags = [region];
        string key = Entry.UniqueKey(region);

        await instance.Cache.GetOrCreateAsync(key, _ =>
        {
            time.Advance(TimeSpan.FromSeconds(3));   // a slow query
            return ValueTask.FromResult("v");
        }, tags: tags);
        time.Advance(TimeSpan.FromSeconds(1.5));
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("x"), tags: tags);
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l1"));

        time.Advance(TimeSpan.FromSeconds(1));   // 5.5 s after the fill started, 2.5 s after it ended
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("x"), tags: tags);
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l1"));
        Assert.Equal(1, metrics.Sum("cachegen.hits", "level=l2"));
    }
}

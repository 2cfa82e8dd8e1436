using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Fills that lose a race: to a caller that gave up, to a fill that replaced them, to an eviction, or to a guarded write
/// that Redis rejected. Interleavings are held by gates; a fill's end is seen through <c>Hooks.FillFinished</c>.
/// </summary>
public sealed class FillRaceTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    private static Func<CancellationToken, ValueTask<string>> Returns(string value) => _ => ValueTask.FromResult(value);

    /// <summary>A data call that says when it started and answers when the test releases it (ignoring its token).</summary>
    private sealed class HeldCall
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<string> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<CancellationToken, ValueTask<string>> Factory => _ =>
        {
            _started.TrySetResult();
            return new ValueTask<string>(_answer.Task);
        };

        public Task Started => _started.Task.WaitAsync(HangGuard);

        public void Answer(string value) => _answer.SetResult(value);
    }

    /// <summary>Counts finished fills of one instance.</summary>
    private sealed class FinishedFills
    {
        private int _count;

        public FinishedFills(CacheInstance instance) => instance.Hooks.FillFinished = _ => Interlocked.Increment(ref _count);

        public Task WaitForAsync(int count) => Eventually.Until(() => Volatile.Read(ref _count) >= count, $"{count} fill(s) to finish");
    }

    private static async Task<string> EvictAsync(CacheInstance instance, string key, string eviction)
    {
        switch (eviction)
        {
            case "remove":
                await instance.Cache.RemoveAsync(key);
                return "new";
            case "set":
                await instance.Cache.SetAsync(key, "set", tags: Entry.Posts);
                return "set";
            case "tag":
                await instance.Cache.RemoveByTagAsync("posts");
                return "new";
            default:
                throw new ArgumentOutOfRangeException(nameof(eviction));
        }
    }

    /// <summary>
    /// X misses and its fill is replaced: X gave up (its core method ignores the token, so the fill keeps running), or
    /// Y read the same key as another type. Then the key is evicted, and X's fill comes back with what it read before.
    /// </summary>
    [Theory]
    [InlineData(false, "remove", true)]
    [InlineData(false, "set", true)]
    [InlineData(false, "tag", true)]
    [InlineData(false, "remove", false)]
    [InlineData(false, "set", false)]
    [InlineData(false, "tag", false)]
    [InlineData(true, "remove", true)]
    [InlineData(true, "set", true)]
    [InlineData(true, "tag", true)]
    [InlineData(true, "remove", false)]
    [InlineData(true, "set", false)]
    [InlineData(true, "tag", false)]
    public async Task A_fill_that_another_fill_replaced_never_stores_its_value_after_an_eviction(bool withRedis, string eviction, bool abandoned)
    {
        await using var instance = CacheInstance.Create(withRedis ? redis.Configuration : null);
        var fills = new FinishedFills(instance);
        string key = Entry.UniqueKey();

        var first = new HeldCall();
        using var gaveUp = new CancellationTokenSource();
        Task<string> x = instance.Cache.GetOrCreateAsync(key, first.Factory, tags: Entry.Posts, cancellationToken: gaveUp.Token).AsTask();
        await first.Started;
        if (abandoned)
        {
            gaveUp.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => x);
        }

        // Y misses: a new fill replaces X's. Then the key is evicted, and X's fill comes back.
        var second = new HeldCall();
        var secondAsNumber = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task y = abandoned
            ? instance.Cache.GetOrCreateAsync(key, second.Factory, tags: Entry.Posts).AsTask()
            : instance.Cache.GetOrCreateAsync(key, ct =>
            {
                second.Factory(ct);
                return new ValueTask<int>(secondAsNumber.Task);
            }, tags: Entry.Posts).AsTask();
        await second.Started;
        string expected = await EvictAsync(instance, key, eviction);
        first.Answer("old");
        await fills.WaitForAsync(1);
        if (!abandoned)
            Assert.Equal("old", await x.WaitAsync(HangGuard));

        Assert.Equal(expected, await instance.Cache.GetOrCreateAsync(key, Returns("new"), tags: Entry.Posts));

        // The replacing fill started before the eviction too: its caller gets its value, the cache does not keep it.
        second.Answer("also old");
        secondAsNumber.SetResult(42);
        await y.WaitAsync(HangGuard);
        await fills.WaitForAsync(2);
        Assert.Equal(expected, await instance.Cache.GetOrCreateAsync(key, Returns("newer"), tags: Entry.Posts));
    }

    [Theory]
    [InlineData("remove")]
    [InlineData("set")]
    [InlineData("tag")]
    public async Task A_fill_whose_guarded_write_was_rejected_returns_its_value_but_keeps_it_out_of_memory(string eviction)
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        // A never hears of B's eviction: only Redis knows, and says so by rejecting A's write.
        a.Hooks.DropIncomingBackplaneMessage = () => true;
        var fills = new FinishedFills(a);
        string key = Entry.UniqueKey();

        var read = new HeldCall();
        Task<string> result = a.Cache.GetOrCreateAsync(key, read.Factory, tags: Entry.Posts).AsTask();
        await read.Started;   // after A's Redis read
        string expected = await EvictAsync(b, key, eviction);
        read.Answer("old");

        Assert.Equal("old", await result.WaitAsync(HangGuard));
        await fills.WaitForAsync(1);
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal(expected, await a.Cache.GetOrCreateAsync(key, Returns("new"), tags: Entry.Posts));
    }

    /// <summary>
    /// SetAsync stores in-process, then writes Redis. A fill that starts in between (here one that skips the in-process
    /// read) finds the old value still in Redis and puts it in L1 over the new one; once the set has returned it must
    /// not be served.
    /// </summary>
    [Fact]
    public async Task A_fill_that_reads_redis_while_a_set_is_on_its_way_there_does_not_outlive_the_set()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        await b.Cache.SetAsync(key, "old", tags: Entry.Posts);   // in Redis, not in A's memory
        var fills = new FinishedFills(a);
        string? readMeanwhile = null;
        a.Hooks.BeforeRedisSet = async _ =>
        {
            a.Hooks.BeforeRedisSet = null;
            var skipMemory = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead };
            readMeanwhile = await a.Cache.GetOrCreateAsync(key, Returns("computed"), skipMemory, Entry.Posts);
            await fills.WaitForAsync(1);
        };

        await a.Cache.SetAsync(key, "new", tags: Entry.Posts);

        Assert.Equal("old", readMeanwhile);   // concurrent with the set: either value would do
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(key, Returns("computed"), tags: Entry.Posts));
        Assert.Equal("new", await a.Cache.GetOrCreateAsync(key, Returns("computed"), Entry.NoLocal, Entry.Posts));
    }
}

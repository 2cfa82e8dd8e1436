using System.Collections.Concurrent;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Batches with <see cref="CacheGenOptions.DistributedStampedeProtection"/>: ids another instance is loading are
/// waited for, not loaded again. Two instances on one real redis-server, each id's loads counted across both.
/// </summary>
public sealed class BatchStampedeTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    private CacheInstance Instance(TimeSpan lockTimeout) => CacheInstance.Create(redis.Configuration, o =>
    {
        o.DistributedStampedeProtection = true;
        o.DistributedLockTimeout = lockTimeout;
    });

    /// <summary>A data source that counts each id it loads and can be held until a test lets it answer.</summary>
    private sealed class Source(string prefix)
    {
        public ConcurrentDictionary<int, int> Loads { get; } = new();

        public ConcurrentQueue<int[]> Calls { get; } = new();

        public ValueTask<Dictionary<int, string>> ManyAsync(CacheInstance instance, IEnumerable<int> ids, Task? holdUntil = null,
            TaskCompletionSource? started = null) =>
            instance.Cache.GetOrCreateManyAsync(ids, id => prefix + id, async (missed, _) =>
            {
                Calls.Enqueue([.. missed]);
                foreach (int id in missed)
                    Loads.AddOrUpdate(id, 1, static (_, n) => n + 1);
                started?.TrySetResult();
                if (holdUntil is not null)
                    await holdUntil;
                return (IReadOnlyDictionary<int, string>)missed.ToDictionary(id => id, id => "post " + id);
            }, tags: _ => Entry.Posts);
    }

    [Fact]
    public async Task Ids_another_instance_is_loading_are_waited_for_and_each_id_is_loaded_once_across_both()
    {
        await using CacheInstance a = Instance(TimeSpan.FromSeconds(30));
        await using CacheInstance b = Instance(TimeSpan.FromSeconds(30));
        var source = new Source(Entry.UniqueKey() + ":");
        var releaseA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A holds the leases of 1..50 while its data call runs; B asks for 26..75 meanwhile.
        Task<Dictionary<int, string>> first = source.ManyAsync(a, Enumerable.Range(1, 50), releaseA.Task, aStarted).AsTask();
        await aStarted.Task.WaitAsync(HangGuard);
        Task<Dictionary<int, string>> second = source.ManyAsync(b, Enumerable.Range(26, 50), started: bStarted).AsTask();

        // B loads only what nobody holds, at once, not after A is done...
        await bStarted.Task.WaitAsync(HangGuard);
        Assert.False(second.IsCompleted);
        releaseA.SetResult();
        Dictionary<int, string> fromA = await first.WaitAsync(HangGuard);
        Dictionary<int, string> fromB = await second.WaitAsync(HangGuard);

        Assert.Equal([.. Enumerable.Range(1, 50)], fromA.Keys.Order());
        Assert.Equal([.. Enumerable.Range(26, 50)], fromB.Keys.Order());
        Assert.All(fromB, pair => Assert.Equal("post " + pair.Key, pair.Value));
        // ...and takes the rest from A's writes: every id loaded once across both instances.
        Assert.Equal([.. Enumerable.Range(51, 25)], source.Calls.Last().Order());
        Assert.Equal(75, source.Loads.Count);
        Assert.All(source.Loads, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(1, b.Hooks.DistributedWaits);
    }

    [Fact]
    public async Task An_id_whose_lease_is_held_by_an_instance_that_never_writes_is_loaded_after_the_bounded_wait()
    {
        await using CacheInstance b = Instance(TimeSpan.FromMilliseconds(300));
        string prefix = Entry.UniqueKey() + ":";
        var source = new Source(prefix);
        // A crashed holder: its lease sits in Redis until its TTL.
        await redis.Database.StringSetAsync("example:1:#lease:" + prefix + 2, "someone else", TimeSpan.FromMinutes(1));

        Dictionary<int, string> values = await source.ManyAsync(b, [1, 2, 3]).AsTask().WaitAsync(HangGuard);

        Assert.Equal(3, values.Count);
        int[][] calls = [.. source.Calls];
        Assert.Equal([[1, 3], [2]], calls.Select(c => c.Order().ToArray()));
        Assert.Single(b.Logs.WithEventId(CacheGenLogEvents.DistributedLockWaitTimedOut));
        // The leases this batch took are released after its writes; the one it never held is left alone.
        await Eventually.Until(async () => !await redis.Database.KeyExistsAsync("example:1:#lease:" + prefix + 1), "the batch's lease to be released");
        Assert.Equal("someone else", (string?)await redis.Database.StringGetAsync("example:1:#lease:" + prefix + 2));
    }
}

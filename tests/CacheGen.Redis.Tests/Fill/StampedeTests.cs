using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>Concurrent misses of one key on one instance run the factory once.</summary>
public sealed class StampedeTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(1000)]
    public async Task Concurrent_cold_callers_run_a_slow_factory_once(int callers)
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<string>> slow = async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return "slow";
        };

        // Each call joins or starts the fill before its first await, so all of them are waiting when this returns.
        Task<string>[] waiting = Enumerable.Range(0, callers).Select(_ => instance.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts).AsTask()).ToArray();
        release.SetResult();
        string[] results = await Task.WhenAll(waiting).WaitAsync(HangGuard);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("slow", r));
        Assert.Equal(callers - 1, metrics.Sum("cachegen.stampede.joins", "scope=local"));
        Assert.Equal(1, metrics.Sum("cachegen.misses"));
    }

    /// <summary>Two instances, many callers each, a factory held until both instances are waiting for it.</summary>
    private async Task<int> CrossInstanceCallsAsync(bool distributed, int callersPerInstance)
    {
        Action<CacheGenOptions> options = o =>
        {
            o.DistributedStampedeProtection = distributed;
            o.DistributedLockTimeout = TimeSpan.FromSeconds(30);
        };
        await using var a = CacheInstance.Create(redis.Configuration, options);
        await using var b = CacheInstance.Create(redis.Configuration, options);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<string>> slow = async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return "slow";
        };

        Task<string>[] onA = Enumerable.Range(0, callersPerInstance).Select(_ => a.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts).AsTask()).ToArray();
        Task<string>[] onB = Enumerable.Range(0, callersPerInstance).Select(_ => b.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts).AsTask()).ToArray();
        // Hold the factory until both instances are committed: either both run it, or one runs it and the other waits on its lease.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref calls) + a.Hooks.DistributedWaits + b.Hooks.DistributedWaits < 2 && clock.Elapsed < HangGuard)
            await Task.Delay(10);
        release.SetResult();
        string[] results = await Task.WhenAll(onA.Concat(onB)).WaitAsync(HangGuard);
        Assert.All(results, r => Assert.Equal("slow", r));
        return calls;
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(1000)]
    public async Task With_distributed_protection_two_instances_run_the_factory_once_between_them(int callersPerInstance)
    {
        Assert.Equal(1, await CrossInstanceCallsAsync(distributed: true, callersPerInstance));
    }

    [Fact]
    public async Task Without_distributed_protection_each_instance_runs_the_factory_once()
    {
        Assert.Equal(2, await CrossInstanceCallsAsync(distributed: false, 100));
    }

    [Fact]
    public async Task A_lease_holder_that_never_writes_delays_other_instances_by_the_lock_timeout_at_most()
    {
        // A crashed holder: its lease sits in Redis until its TTL. The waiter gives up after the timeout and runs the factory.
        await using var b = CacheInstance.Create(redis.Configuration, o =>
        {
            o.DistributedStampedeProtection = true;
            o.DistributedLockTimeout = TimeSpan.FromMilliseconds(300);
        });
        string key = Entry.UniqueKey();
        await redis.Database.StringSetAsync("example:1:#lease:" + key, "someone else", TimeSpan.FromMinutes(1));

        string value = await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("computed"), tags: Entry.Posts).AsTask().WaitAsync(HangGuard);

        Assert.Equal("computed", value);
        Assert.Equal(1, b.Hooks.DistributedWaits);
        Assert.Single(b.Logs.WithEventId(CacheGenLogEvents.DistributedLockWaitTimedOut));
        // The lease was not ours: it is left alone.
        Assert.Equal("someone else", (string?)await redis.Database.StringGetAsync("example:1:#lease:" + key));
    }

    [Fact]
    public async Task The_lease_is_released_after_the_write()
    {
        // A lease that outlives the test by far: gone within seconds means released, not expired.
        await using var a = CacheInstance.Create(redis.Configuration, o =>
        {
            o.DistributedStampedeProtection = true;
            o.DistributedLockTimeout = TimeSpan.FromMinutes(2);
        });
        string key = Entry.UniqueKey();
        string lease = "example:1:#lease:" + key;

        bool leaseHeldDuringFill = false;
        await a.Cache.GetOrCreateAsync(key, async _ =>
        {
            leaseHeldDuringFill = await redis.Database.KeyExistsAsync(lease);
            return "v";
        }, tags: Entry.Posts);
        Assert.True(leaseHeldDuringFill, "the fill ran without the lease this test looks for");
        // The caller is answered before the write lands, and the lease goes only after it: after the pending-write
        // count drops, so the lease is awaited on its own.
        await a.SettledAsync();
        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await redis.Database.KeyExistsAsync(lease))
        {
            Assert.True(clock.Elapsed < HangGuard, "the lease was left to its TTL instead of released after the write");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_hundred_concurrent_callers_on_a_cold_key_run_the_factory_once()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;

        Task<MutablePost>[] callers = Enumerable.Range(0, 100).Select(_ => instance.Cache.GetOrCreateAsync(key, async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return new MutablePost { Id = 1, Title = "slow" };
        }, tags: Entry.Posts).AsTask()).ToArray();
        await Task.Delay(100);
        release.SetResult();
        MutablePost[] results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("slow", r.Title));
        // A mutable value: every joiner got its own copy.
        Assert.Equal(100, results.Distinct(ReferenceEqualityComparer.Instance).Count());
        // The fill stays registered until its Redis write lands (the callers were answered before).
        await instance.SettledAsync();
        Assert.Equal(0, instance.Hooks.FlightCount);
    }

    [Fact]
    public async Task One_waiter_cancelling_leaves_the_others_and_the_factory_running()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken factoryToken = default;
        Func<CancellationToken, ValueTask<string>> factory = async ct =>
        {
            factoryToken = ct;
            started.SetResult();
            await release.Task;
            return "value";
        };
        using var impatient = new CancellationTokenSource();

        Task<string> first = instance.Cache.GetOrCreateAsync(key, factory, tags: Entry.Posts).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task<string> leaving = instance.Cache.GetOrCreateAsync(key, factory, tags: Entry.Posts, cancellationToken: impatient.Token).AsTask();
        Task<string> staying = instance.Cache.GetOrCreateAsync(key, factory, tags: Entry.Posts).AsTask();

        impatient.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        Assert.False(factoryToken.IsCancellationRequested);
        release.SetResult();

        Assert.Equal("value", await first);
        Assert.Equal("value", await staying);
    }

    [Fact]
    public async Task When_every_waiter_has_cancelled_the_factory_is_cancelled()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<CancellationToken, ValueTask<string>> factory = async ct =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                factoryCancelled.TrySetResult();
            }
            return "never";
        };
        using var one = new CancellationTokenSource();
        using var two = new CancellationTokenSource();

        Task<string> a = instance.Cache.GetOrCreateAsync(key, factory, tags: Entry.Posts, cancellationToken: one.Token).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task<string> b = instance.Cache.GetOrCreateAsync(key, factory, tags: Entry.Posts, cancellationToken: two.Token).AsTask();
        one.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        Assert.False(factoryCancelled.Task.IsCompleted);
        two.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);

        await factoryCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The abandoned fill is gone: a new caller starts afresh instead of joining it.
        Assert.Equal("again", await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("again"), tags: Entry.Posts));
    }

    [Fact]
    public async Task Every_waiter_gets_the_factory_exception_and_nothing_is_cached()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<string>> failing = async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            throw new InvalidOperationException("database down");
        };

        Task<string>[] callers = Enumerable.Range(0, 5).Select(_ => instance.Cache.GetOrCreateAsync(key, failing, tags: Entry.Posts).AsTask()).ToArray();
        release.SetResult();

        foreach (Task<string> caller in callers)
            Assert.Equal("database down", (await Assert.ThrowsAsync<InvalidOperationException>(() => caller)).Message);
        Assert.Equal(1, calls);
        Assert.Equal("ok", await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("ok"), tags: Entry.Posts));
    }

    [Fact]
    public async Task A_region_eviction_during_a_fill_makes_new_callers_start_their_own()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> before = instance.Cache.GetOrCreateAsync(key, async _ =>
        {
            started.SetResult();
            await release.Task;
            return "old";
        }, tags: Entry.Posts).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await instance.Cache.RemoveByTagAsync("posts");

        // Started after the eviction returned: must not get the fill that began before it.
        string after = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts);
        release.SetResult();

        Assert.Equal("new", after);
        Assert.Equal("old", await before);
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("x"), tags: Entry.Posts));
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>Every instrument of the CacheGen meter, read through a real MeterListener, plus the fill activity.</summary>
public sealed class MetricsTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Hits_by_level_misses_evictions_stale_sets_backplane_and_stampede_joins_are_measured()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "CacheGen",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(activityListener);
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        await using var deaf = CacheInstance.Create(redis.Configuration);
        deaf.Hooks.DropIncomingBackplaneMessage = () => true;
        using var am = new MetricsRecorder(a.Hooks.Meter);
        using var bm = new MetricsRecorder(b.Hooks.Meter);
        using var deafm = new MetricsRecorder(deaf.Hooks.Meter);
        await Task.WhenAll(a.Hooks.BackplaneReady, b.Hooks.BackplaneReady, deaf.Hooks.BackplaneReady).WaitAsync(HangGuard);
        string key = Entry.UniqueKey();

        // A miss that two callers share (one stampede join), then an L1 hit on A and an L2 hit on B.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<CancellationToken, ValueTask<string>> slow = async _ =>
        {
            await release.Task;
            return "v";
        };
        Task<string> first = a.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts).AsTask();
        Task<string> second = a.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts).AsTask();
        release.SetResult();
        await Task.WhenAll(first, second).WaitAsync(HangGuard);
        await a.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts);
        await a.SettledAsync();
        await b.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts);

        // A stale set: B's fill reads, A evicts, B's write is rejected.
        string other = Entry.UniqueKey();
        var readTheDatabase = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> stale = b.Cache.GetOrCreateAsync(other, async _ =>
        {
            readTheDatabase.SetResult();
            await finish.Task;
            return "old";
        }, tags: Entry.Posts).AsTask();
        await readTheDatabase.Task.WaitAsync(HangGuard);
        await a.Cache.RemoveByTagAsync("posts");
        finish.SetResult();
        await stale.WaitAsync(HangGuard);
        await b.SettledAsync();
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied == 1 && deafm.Sum("cachegen.backplane.dropped") == 1, "the eviction message");

        Assert.Equal(1, am.Sum("cachegen.misses"));
        Assert.Equal(1, am.Sum("cachegen.stampede.joins", "scope=local"));
        Assert.Equal(1, am.Sum("cachegen.hits", "level=l1"));
        Assert.Equal(1, bm.Sum("cachegen.hits", "level=l2"));
        Assert.Equal(1, am.Count("cachegen.fill.duration"));
        Assert.Equal(1, am.Sum("cachegen.evictions"));
        Assert.Equal(1, bm.Sum("cachegen.stale_sets_rejected"));
        Assert.Single(b.Logs.WithEventId(CacheGenLogEvents.StaleSetRejected));
        Assert.Equal(1, am.Sum("cachegen.backplane.sent"));
        Assert.Equal(1, bm.Sum("cachegen.backplane.received"));
        Assert.Equal(0, am.Sum("cachegen.backplane.received"));   // its own echo is ignored
        Assert.Equal(0, deafm.Sum("cachegen.backplane.received"));
        Assert.Equal(0, deaf.Hooks.BackplaneMessagesApplied);
        Assert.Contains(activities, activity => activity.OperationName == "cachegen.fill" && (string?)activity.GetTagItem("cachegen.key") == key);
    }

    [Fact]
    public async Task Hits_misses_and_evictions_are_tagged_with_the_region_never_the_key_and_the_state_is_observable()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        using var am = new MetricsRecorder(a.Hooks.Meter);
        using var bm = new MetricsRecorder(b.Hooks.Meter);
        string post = Entry.UniqueKey("posts");
        string user = Entry.UniqueKey("users");

        await a.Cache.GetOrCreateAsync(post, _ => ValueTask.FromResult("p"), tags: Entry.Posts);   // miss
        await a.SettledAsync();
        await a.Cache.GetOrCreateAsync(post, _ => ValueTask.FromResult("p"), tags: Entry.Posts);   // l1 hit
        await b.Cache.GetOrCreateAsync(post, _ => ValueTask.FromResult("p"), tags: Entry.Posts);   // l2 hit
        await a.Cache.GetOrCreateAsync(user, _ => ValueTask.FromResult("u"), tags: Entry.Users);   // miss
        // The state the observable instruments report: A holds both entries in-process.
        Assert.Equal(2, am.Observe("cachegen.local.entries"));
        Assert.True(am.Observe("cachegen.local.bytes") > 0);
        Assert.Equal(0, am.Observe("cachegen.evictions.pending"));
        Assert.Equal(0, am.Observe("cachegen.circuit_breaker.state"));

        await a.Cache.RemoveByTagAsync("posts");
        await a.Cache.RemoveAsync(user);

        Assert.Equal(1, am.Sum("cachegen.misses", "region=posts"));
        Assert.Equal(1, am.Sum("cachegen.misses", "region=users"));
        Assert.Equal(1, am.Sum("cachegen.hits", "region=posts"));
        Assert.Equal(1, bm.Sum("cachegen.hits", "region=posts"));
        Assert.Equal(1, bm.Sum("cachegen.hits", "level=l2"));
        Assert.Equal(1, am.Sum("cachegen.evictions", "region=posts"));
        Assert.Equal(1, am.Sum("cachegen.evictions", "region=users"));   // a generated key starts with {region}
        Assert.Equal(2, am.Count("cachegen.fill.duration"));
        // Hits and misses share the region tag, so hits / (hits + misses) per region is the hit ratio; keys are in no tag.
        Assert.DoesNotContain(am.TagPairs.Concat(bm.TagPairs), pair => pair.Contains(post, StringComparison.Ordinal) || pair.Contains(user, StringComparison.Ordinal));
    }
}

using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// RefreshAheadPercent as generated code asks for it through IMethodCache, on a real redis-server and a fake clock: a hit
/// past that share of the entry's lifetime answers at once with the current value and starts one refresh of the key
/// (one across instances), stored through the guard; a failed refresh leaves the value, an eviction during one wins.
/// </summary>
public sealed class RefreshAheadTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(100);

    // Refreshed once 80 of its 100 seconds have passed.
    private static readonly CachedMethod Rates = new("Rates.RateService.GetRatesAsync", "rates", new() { Expiration = Lifetime }) { RefreshAheadPercent = 80 };

    private static readonly CachedMethod HalfWay = new("Rates.RateService.GetHalfWayAsync", "rates", new() { Expiration = Lifetime }) { RefreshAheadPercent = 50 };

    private static readonly CachedMethod NoNulls = new("Rates.RateService.GetNoNullsAsync", "rates", new() { Expiration = Lifetime })
    {
        RefreshAheadPercent = 80,
        CacheNull = false,
    };

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The in-process copy lives as long as the entry, so hits here are in-process hits unless a test says otherwise.</summary>
    private static CacheInstance Instance(string? configuration, FakeTimeProvider clock) =>
        CacheInstance.Create(configuration, o => o.LocalCacheExpiration = Lifetime, clock);

    /// <summary>As generated code calls it: the state carries the data call and the key, the tags are built from it.</summary>
    private static ValueTask<string?> Read(CacheInstance instance, CachedMethod method, string key, Source source) =>
        ((IMethodCache)instance.Cache).GetOrCreateAsync(method, key, (Source: source, Key: key), static (s, ct) => s.Source.CallAsync(ct),
            static s => ["rates", "{rates}:" + s.Key], null, default);

    /// <summary>The data call: counts its calls, returns "v{n}", and can be held at a gate or made to fail.</summary>
    private sealed class Source
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public TaskCompletionSource? Gate { get; private set; }

        public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Fails { get; set; }

        public bool ReturnsNull { get; set; }

        public CancellationToken LastToken { get; private set; }

        public async ValueTask<string?> CallAsync(CancellationToken token)
        {
            int call = Interlocked.Increment(ref _calls);
            LastToken = token;
            Entered.TrySetResult();
            if (Gate is { } gate)
                await gate.Task;
            if (Fails)
                throw new InvalidOperationException("the rate source is down");
            return ReturnsNull ? null : "v" + call;
        }

        /// <summary>Holds the next calls at a gate, and makes <see cref="Entered"/> wait for the next call.</summary>
        public TaskCompletionSource Hold()
        {
            Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return Gate;
        }
    }

    /// <summary>Counts the refreshes an instance ended (started or skipped, stored or not).</summary>
    private static Func<int> CountRefreshesEnded(CacheInstance instance)
    {
        int ended = 0;
        instance.Hooks.RefreshFinished = _ => Interlocked.Increment(ref ended);
        return () => Volatile.Read(ref ended);
    }

    [Fact]
    public async Task A_hit_before_the_refresh_point_refreshes_nothing_and_the_first_hit_after_it_refreshes_once()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(redis.Configuration, clock);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        Func<int> ended = CountRefreshesEnded(instance);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        Assert.Equal("v1", await Read(instance, Rates, key, source));
        await instance.SettledAsync();

        clock.Advance(TimeSpan.FromSeconds(79));
        for (int i = 0; i < 20; i++)
            Assert.Equal("v1", await Read(instance, Rates, key, source));
        await Task.Delay(100);
        Assert.Equal(1, source.Calls);
        Assert.Equal(0, ended());

        // Past 80 s: every hit answers with the current value while one refresh runs.
        clock.Advance(TimeSpan.FromSeconds(2));
        source.Hold();
        for (int i = 0; i < 50; i++)
            Assert.Equal("v1", await Read(instance, Rates, key, source));
        await source.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        for (int i = 0; i < 50; i++)
            Assert.Equal("v1", await Read(instance, Rates, key, source));
        source.Gate!.SetResult();
        await Eventually.Until(() => ended() == 1, "the refresh to end");
        await instance.SettledAsync();

        Assert.Equal(2, source.Calls);
        Assert.Equal("v2", await Read(instance, Rates, key, source));
        Assert.Equal(1, metrics.Sum("cachegen.refreshes", "outcome=started"));
        // A refresh is not a miss.
        Assert.Equal(1, metrics.Sum("cachegen.misses"));
        // The refreshed entry has a lifetime of its own: the next refresh is 80 s after it was written, not before.
        clock.Advance(TimeSpan.FromSeconds(79));
        Assert.Equal("v2", await Read(instance, Rates, key, source));
        await Task.Delay(100);
        Assert.Equal(2, source.Calls);
        // And another instance reads the refreshed value from Redis, with the time left since its write.
        await using CacheInstance other = Instance(redis.Configuration, clock);
        Assert.Equal("v2", await Read(other, Rates, key, new Source()));
    }

    [Fact]
    public async Task Callers_never_wait_for_the_refresh_and_it_runs_under_no_callers_token()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(redis.Configuration, clock);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        await Read(instance, Rates, key, source);
        await instance.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(81));
        source.Hold();
        using var caller = new CancellationTokenSource();

        ValueTask<string?> hit = ((IMethodCache)instance.Cache).GetOrCreateAsync(Rates, key, (Source: source, Key: key),
            static (s, ct) => s.Source.CallAsync(ct), static s => ["rates", "{rates}:" + s.Key], null, caller.Token);
        // Answered before it returned, while the refresh it started is held in its data call.
        Assert.True(hit.IsCompletedSuccessfully);
        Assert.Equal("v1", await hit);
        await source.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        caller.Cancel();
        Assert.False(source.LastToken.IsCancellationRequested);
        source.Gate!.SetResult();
        await Eventually.Until(async () => await Read(instance, Rates, key, source) == "v2", "the refreshed value");
    }

    [Fact]
    public async Task One_refresh_per_key_across_two_instances_under_concurrent_hits()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(redis.Configuration, clock);
        await using CacheInstance b = Instance(redis.Configuration, clock);
        using var metricsA = new MetricsRecorder(a.Hooks.Meter);
        using var metricsB = new MetricsRecorder(b.Hooks.Meter);
        Func<int> endedA = CountRefreshesEnded(a);
        Func<int> endedB = CountRefreshesEnded(b);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        Assert.Equal("v1", await Read(a, Rates, key, source));
        await a.SettledAsync();
        Assert.Equal("v1", await Read(b, Rates, key, source));

        clock.Advance(TimeSpan.FromSeconds(85));
        source.Hold();
        // Both instances hit the key from many threads at once; one refresh holds the lease in its data call.
        Task[] readers = [.. Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            CacheInstance instance = i % 2 == 0 ? a : b;
            for (int n = 0; n < 50; n++)
                Assert.Equal("v1", await Read(instance, Rates, key, source));
        }))];
        await Task.WhenAll(readers);
        await source.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        // The other instance's attempt found the lease held and ended without a data call.
        await Eventually.Until(() => endedA() + endedB() == 1, "the losing instance to skip its refresh");
        source.Gate!.SetResult();
        await Eventually.Until(() => endedA() + endedB() == 2, "the refresh to end");

        Assert.Equal(2, source.Calls);
        Assert.Equal(1, metricsA.Sum("cachegen.refreshes", "outcome=started") + metricsB.Sum("cachegen.refreshes", "outcome=started"));
        Assert.Equal(1, metricsA.Sum("cachegen.refreshes", "outcome=skipped") + metricsB.Sum("cachegen.refreshes", "outcome=skipped"));
    }

    [Fact]
    public async Task An_eviction_during_a_refresh_wins()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(redis.Configuration, clock);
        await using CacheInstance other = Instance(redis.Configuration, clock);
        Func<int> ended = CountRefreshesEnded(instance);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        await Read(instance, Rates, key, source);
        await instance.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(81));
        source.Hold();
        Assert.Equal("v1", await Read(instance, Rates, key, source));
        await source.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // The row changed and the key was evicted while the refresh read the old row: its "v2" must reach no cache.
        await instance.Cache.RemoveAsync(key);
        source.Gate!.SetResult();
        await Eventually.Until(() => ended() == 1, "the refresh to end");
        await instance.SettledAsync();

        // Neither in-process (the eviction took the refresh out before it stored) nor in Redis (the guard refused it):
        // the next read runs its own data call.
        var after = new Source();
        Assert.Equal("v1", await Read(instance, Rates, key, after));
        Assert.Equal(1, after.Calls);
        await instance.SettledAsync();
        Assert.Equal("v1", await Read(other, Rates, key, new Source()));
    }

    [Fact]
    public async Task A_failing_refresh_keeps_the_value_until_it_expires()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(redis.Configuration, clock);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        Func<int> ended = CountRefreshesEnded(instance);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        await Read(instance, Rates, key, source);
        await instance.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(81));
        source.Fails = true;
        Assert.Equal("v1", await Read(instance, Rates, key, source));
        await Eventually.Until(() => ended() == 1, "the refresh to fail");

        // Served as before, and not asked again on every hit.
        for (int i = 0; i < 20; i++)
            Assert.Equal("v1", await Read(instance, Rates, key, source));
        await Task.Delay(100);
        Assert.Equal(2, source.Calls);
        Assert.Equal(1, metrics.Sum("cachegen.refreshes", "outcome=failed"));
        Assert.NotEmpty(instance.Logs.WithEventId(67));

        // Until it expires: then a caller waits for the data call, as without refresh ahead.
        clock.Advance(TimeSpan.FromSeconds(20));
        source.Fails = false;
        Assert.Equal("v3", await Read(instance, Rates, key, source));
    }

    [Fact]
    public async Task A_caller_that_joins_a_failing_refresh_fills_with_its_own_state()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(redis.Configuration, clock);
        string key = Entry.UniqueKey("rates");
        var first = new Source();
        await Read(instance, Rates, key, first);
        await instance.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(81));
        // The refresh runs on the state of the hit that started it (its scope may be gone by now): here it fails.
        TaskCompletionSource gate = first.Hold();
        first.Fails = true;
        Assert.Equal("v1", await Read(instance, Rates, key, first));
        await first.Entered.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // The entry expires while the refresh runs: the next caller joins it, and on its failure fills with its own.
        clock.Advance(TimeSpan.FromSeconds(20));
        var own = new Source();
        Task<string?> joined = Read(instance, Rates, key, own).AsTask();
        await Eventually.Until(() => instance.Hooks.FlightCount == 1, "the refresh to be the key's fill");
        gate.SetResult();
        Assert.Equal("v1", await joined.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(1, own.Calls);
    }

    [Fact]
    public async Task In_process_hits_on_another_instance_refresh_at_the_entrys_age_not_at_the_age_of_its_copy()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance writer = Instance(redis.Configuration, clock);
        await using CacheInstance reader = Instance(redis.Configuration, clock);
        Func<int> ended = CountRefreshesEnded(reader);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        await Read(writer, HalfWay, key, source);
        await writer.SettledAsync();

        // The reader copies the entry 40 s into its 100 s; its halfway point is still at 50 s, not at 40 + 30 s.
        clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal("v1", await Read(reader, HalfWay, key, source));
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("v1", await Read(reader, HalfWay, key, source));
        await Task.Delay(100);
        Assert.Equal(1, source.Calls);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("v1", await Read(reader, HalfWay, key, source));
        await Eventually.Until(() => ended() == 1, "the reader's refresh");
        Assert.Equal(2, source.Calls);
        Assert.Equal("v2", await Read(reader, HalfWay, key, source));
    }

    [Fact]
    public async Task A_Redis_hit_past_the_point_refreshes_too_when_the_in_process_copy_is_short_lived()
    {
        FakeTimeProvider clock = Clock();
        // The default in-process lifetime (5 s): after 81 s the read is a Redis hit.
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: clock);
        Func<int> ended = CountRefreshesEnded(instance);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        await Read(instance, Rates, key, source);
        await instance.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(81));
        Assert.Equal("v1", await Read(instance, Rates, key, source));
        await Eventually.Until(() => ended() == 1, "the refresh");
        Assert.Equal(2, source.Calls);
    }

    [Fact]
    public async Task A_refreshed_value_the_method_would_not_store_evicts_the_entry()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(redis.Configuration, clock);
        Func<int> ended = CountRefreshesEnded(instance);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        Assert.Equal("v1", await Read(instance, NoNulls, key, source));
        await instance.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(81));
        // The row is gone: the refresh gets null, which CacheNull = false does not store; the old value goes too.
        source.ReturnsNull = true;
        Assert.Equal("v1", await Read(instance, NoNulls, key, source));
        await Eventually.Until(() => ended() == 1, "the refresh");
        Assert.Null(await Read(instance, NoNulls, key, source));
        Assert.Equal(3, source.Calls);
    }

    [Fact]
    public async Task In_process_only_refreshes_ahead_too()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = Instance(configuration: null, clock);
        Func<int> ended = CountRefreshesEnded(instance);
        string key = Entry.UniqueKey("rates");
        var source = new Source();
        await Read(instance, Rates, key, source);
        clock.Advance(TimeSpan.FromSeconds(81));
        Assert.Equal("v1", await Read(instance, Rates, key, source));
        await Eventually.Until(() => ended() == 1, "the refresh");
        Assert.Equal("v2", await Read(instance, Rates, key, source));
    }
}

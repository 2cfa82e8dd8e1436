using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Fail-safe, the soft timeout and the conditions, as generated code asks for them through IMethodCache, on a real
/// redis-server and a fake clock (entries expire by the envelope's clock; Redis keeps them for their stale window).
/// </summary>
public sealed class ResilienceTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private static readonly CachedMethod FailSafe = new("Blog.PostService.GetAsync", "posts", new() { Expiration = Lifetime })
    {
        StaleFor = Window,
    };

    private static readonly CachedMethod WithTimeout = new("Blog.PostService.SearchAsync", "posts", new() { Expiration = Lifetime })
    {
        StaleFor = Window,
        Timeout = TimeSpan.FromMilliseconds(200),
    };

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private CacheInstance Instance(FakeTimeProvider clock, Action<CacheGenOptions>? configure = null) => CacheInstance.Create(redis.Configuration, configure, clock);

    private static string[] Tags(string key) => ["posts", "{posts}:" + key];

    /// <summary>As generated code calls it: the state carries the data call and the key, the tags are built from it on a fill.</summary>
    private static ValueTask<string> Read(CacheInstance instance, CachedMethod method, string key, Func<ValueTask<string>> source) =>
        ((IMethodCache)instance.Cache).GetOrCreateAsync(method, key, (Source: source, Key: key), static (s, _) => s.Source(), static s => Tags(s.Key), null, default);

    /// <summary>
    /// Moves the clock past the 200 ms timeout until the call answers: the timer starts just after the data call does,
    /// so one step could come before it exists. Bounded: a call that never answers fails the test.
    /// </summary>
    private static async Task PassTimeoutAsync(FakeTimeProvider clock, Task call)
    {
        for (int i = 0; i < 200 && !call.IsCompleted; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(200));
            await Task.Delay(10);
        }
    }

    private static Func<ValueTask<string>> Fails(Action? called = null) => () =>
    {
        called?.Invoke();
        throw new InvalidOperationException("the database is down");
    };

    [Fact]
    public async Task An_expired_value_is_served_when_the_data_call_fails_on_this_and_other_instances()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        await using CacheInstance b = Instance(clock);
        using var metrics = new MetricsRecorder(a.Hooks.Meter);
        string key = Entry.UniqueKey();
        Assert.Equal("v1", await Read(a, FailSafe, key, () => new("v1")));
        await a.SettledAsync();

        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));

        Assert.Equal("v1", await Read(a, FailSafe, key, Fails()));
        Assert.Equal("v1", await Read(b, FailSafe, key, Fails()));   // from Redis, which keeps it for the window
        Assert.Equal(1, metrics.Sum("cachegen.stale_served", "reason=failure"));
        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.StaleServed));
        // A working data call replaces it.
        clock.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(2));
        Assert.Equal("v2", await Read(b, FailSafe, key, () => new("v2")));
    }

    [Theory]
    [InlineData("region")]
    [InlineData("tag")]
    [InlineData("key")]
    [InlineData("clear")]
    public async Task An_evicted_value_is_never_served_however_the_data_call_fails(string eviction)
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        await using CacheInstance b = Instance(clock);
        string key = Entry.UniqueKey();
        await Read(a, FailSafe, key, () => new("v1"));
        await a.SettledAsync();
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));

        await (eviction switch
        {
            "region" => b.Cache.RemoveByTagAsync("posts"),
            "tag" => b.Cache.RemoveByTagAsync(Tags(key)[1]),
            "key" => b.Cache.RemoveAsync(key),
            _ => b.Cache.RemoveByTagAsync("*"),
        });

        await Eventually.Until(async () =>
        {
            // A's own copy goes when B's message arrives; until then A may still hold it in its stale window.
            try
            {
                await Read(a, FailSafe, key, Fails());
                return false;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }, "A to stop serving the evicted value");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Read(b, FailSafe, key, Fails()).AsTask());
    }

    [Fact]
    public async Task A_value_past_its_stale_window_is_not_served()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        string key = Entry.UniqueKey();
        await Read(a, FailSafe, key, () => new("v1"));

        clock.Advance(Lifetime + Window + TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Read(a, FailSafe, key, Fails()).AsTask());
    }

    [Fact]
    public async Task After_serving_an_expired_value_the_failing_source_is_asked_again_only_after_the_throttle()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock, o => o.FailSafeThrottle = TimeSpan.FromSeconds(5));
        string key = Entry.UniqueKey();
        await Read(a, FailSafe, key, () => new("v1"));
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        int calls = 0;

        for (int i = 0; i < 5; i++)
            Assert.Equal("v1", await Read(a, FailSafe, key, Fails(() => calls++)));
        Assert.Equal(1, calls);

        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("v1", await Read(a, FailSafe, key, Fails(() => calls++)));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Past_the_timeout_the_caller_gets_the_expired_value_and_the_slow_result_lands_later()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        await using CacheInstance b = Instance(clock);
        string key = Entry.UniqueKey();
        await Read(a, WithTimeout, key, () => new("v1"));
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        var slow = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> call = Read(a, WithTimeout, key, () => { started.TrySetResult(); return new(slow.Task); }).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(call.IsCompleted);
        await PassTimeoutAsync(clock, call);

        Assert.Equal("v1", await call.WaitAsync(TimeSpan.FromSeconds(10)));
        slow.SetResult("v2");
        // The background fill stores its result through the guard: both instances read it without a data call.
        await Eventually.Until(async () => await Read(a, WithTimeout, key, Fails()) == "v2", "the background result in A");
        await a.SettledAsync();
        Assert.Equal("v2", await Read(b, WithTimeout, key, Fails()));
    }

    [Fact]
    public async Task Past_the_timeout_a_batch_gets_the_expired_values_and_the_slow_results_land_later()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        await using CacheInstance b = Instance(clock);
        string prefix = Entry.UniqueKey() + ":";
        await ReadMany(a, prefix, [1, 2], _ => new(Values(1, 2, "v1")));
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        var slow = new TaskCompletionSource<IReadOnlyDictionary<int, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<Dictionary<int, string>> call = ReadMany(a, prefix, [1, 2], _ => { started.TrySetResult(); return new(slow.Task); });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(call.IsCompleted);
        await PassTimeoutAsync(clock, call);

        Assert.Equal(Values(1, 2, "v1"), await call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, a.Logs.WithEventId(CacheGenLogEvents.StaleServed).Count());
        slow.SetResult(Values(1, 2, "v2"));
        // The call went on in the background and stored each result through the guard: both instances read them.
        await Eventually.Until(async () => (await ReadMany(a, prefix, [1, 2], FailsMany))[2] == "v2", "the background results in A");
        await a.SettledAsync();
        Assert.Equal(Values(1, 2, "v2"), await ReadMany(b, prefix, [1, 2], FailsMany));
    }

    [Fact]
    public async Task Past_the_timeout_a_batch_answers_an_id_with_an_expired_value_at_once_and_waits_for_the_others()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        string prefix = Entry.UniqueKey() + ":";
        await ReadMany(a, prefix, [1], _ => new(Values(1, 1, "v1")));
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        var slow = new TaskCompletionSource<IReadOnlyDictionary<int, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<Dictionary<int, string>> batch = ReadMany(a, prefix, [1, 2], _ => { started.TrySetResult(); return new(slow.Task); });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // A single call of id 1 joins the batch's fill: past the timeout it gets the expired value; id 2 has none.
        Task<string> single = Read(a, WithTimeout, prefix + 1, Fails()).AsTask();
        await PassTimeoutAsync(clock, single);

        Assert.Equal("v1", await single.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(batch.IsCompleted);
        slow.SetResult(Values(1, 2, "v2"));
        Assert.Equal(new Dictionary<int, string> { [1] = "v1", [2] = "v2" }, await batch.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static Dictionary<int, string> Values(int from, int to, string value) =>
        Enumerable.Range(from, to - from + 1).ToDictionary(id => id, _ => value);

    private static ValueTask<IReadOnlyDictionary<int, string>> FailsMany(IReadOnlyList<int> ids) =>
        throw new InvalidOperationException("the database is down");

    /// <summary>A batch of <see cref="WithTimeout"/>'s entries, as generated [CachedBatch] code calls it.</summary>
    private static Task<Dictionary<int, string>> ReadMany(CacheInstance instance, string prefix, int[] ids,
        Func<IReadOnlyList<int>, ValueTask<IReadOnlyDictionary<int, string>>> source) =>
        ((IMethodBatchCache)instance.Cache).GetOrCreateManyAsync(WithTimeout, ids, (Prefix: prefix, Source: source),
            static (s, id) => s.Prefix + id, static (s, missed, _) => s.Source(missed), static (s, id) => Tags(s.Prefix + id), null, default).AsTask();

    [Fact]
    public async Task Without_an_expired_value_at_hand_the_caller_waits_for_a_slow_data_call()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = Instance(clock);
        string key = Entry.UniqueKey();
        var slow = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> call = Read(a, WithTimeout, key, () => { started.TrySetResult(); return new(slow.Task); }).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(5));
        await Task.Delay(50);

        Assert.False(call.IsCompleted);
        slow.SetResult("first");
        Assert.Equal("first", await call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_null_result_with_CacheNull_false_reaches_every_joined_caller_and_is_not_stored()
    {
        var method = new CachedMethod("Blog.PostService.FindAsync", "posts", null) { CacheNull = false };
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<ValueTask<string?>> slowNull = () => { Interlocked.Increment(ref calls); return new(release.Task); };
        var methods = (IMethodCache)a.Cache;

        Task<string?>[] callers = [.. Enumerable.Range(0, 3).Select(_ => methods.GetOrCreateAsync(method, key, slowNull, static (s, _) => s(), null, null, default).AsTask())];
        await Eventually.Until(() => Volatile.Read(ref calls) == 1, "the fill to start");
        release.SetResult(null);

        Assert.All(await Task.WhenAll(callers), Assert.Null);
        Assert.Equal(1, calls);
        await a.SettledAsync();
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        // Nor in-process: the next call asks the source.
        Assert.Equal("found", await methods.GetOrCreateAsync(method, key, () => new ValueTask<string?>("found"), static (s, _) => s(), null, null, default));
    }

    [Fact]
    public async Task A_result_Unless_rejects_is_returned_and_not_stored_and_one_it_accepts_is_stored()
    {
        var method = new CachedMethod("Blog.PostService.SearchAsync", "posts", null);
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        var methods = (IMethodCache)a.Cache;
        string key = Entry.UniqueKey();
        Func<string, bool> isEmpty = static s => s.Length == 0;
        int calls = 0;
        Func<ValueTask<string>> empty = () => { calls++; return new(""); };

        Assert.Equal("", await methods.GetOrCreateAsync(method, key, empty, static (s, _) => s(), null, isEmpty, default));
        Assert.Equal("", await methods.GetOrCreateAsync(method, key, empty, static (s, _) => s(), null, isEmpty, default));
        Assert.Equal(2, calls);
        await a.SettledAsync();
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));

        Assert.Equal("found", await methods.GetOrCreateAsync(method, key, () => new ValueTask<string>("found"), static (s, _) => s(), null, isEmpty, default));
        Assert.Equal("found", await methods.GetOrCreateAsync(method, key, empty, static (s, _) => s(), null, isEmpty, default));
        Assert.Equal(2, calls);
        await a.SettledAsync();
        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
    }

    [Fact]
    public async Task Without_Redis_the_in_process_copy_is_the_fallback_within_its_window_only()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = CacheInstance.Create(redis: null, time: clock);
        string key = Entry.UniqueKey();
        await Read(a, FailSafe, key, () => new("v1"));

        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        Assert.Equal("v1", await Read(a, FailSafe, key, Fails()));

        clock.Advance(Window);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Read(a, FailSafe, key, Fails()).AsTask());
    }

    [Fact]
    public async Task A_background_fill_outlives_the_request_that_started_it_when_the_service_makes_its_own_context()
    {
        FakeTimeProvider clock = Clock();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddCacheGen(o => { o.Redis = redis.Configuration; o.KeyPrefix = "example"; });
        services.AddSingleton<SearchDatabase>();
        services.AddScoped<SearchQueries>();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var database = provider.GetRequiredService<SearchDatabase>();
        int id = Random.Shared.Next();

        using (IServiceScope first = provider.CreateScope())
            Assert.Equal("old", await first.ServiceProvider.GetRequiredService<SearchQueries>().SearchAsync(id));
        clock.Advance(TimeSpan.FromSeconds(11));
        database.Answer = "new";
        database.Hold();

        using (IServiceScope request = provider.CreateScope())
        {
            Task<string> call = request.ServiceProvider.GetRequiredService<SearchQueries>().SearchAsync(id);
            await database.Started.WaitAsync(TimeSpan.FromSeconds(10));
            await PassTimeoutAsync(clock, call);
            Assert.Equal("old", await call.WaitAsync(TimeSpan.FromSeconds(10)));
        }   // the request ends, its scope is disposed; the data call is still running

        database.Release();
        await Eventually.Until(() => database.Completed == 2, "the background data call to finish");
        using IServiceScope later = provider.CreateScope();
        await Eventually.Until(async () => await later.ServiceProvider.GetRequiredService<SearchQueries>().SearchAsync(id) == "new", "the background result");
        Assert.Equal(2, database.Completed);
    }
}

/// <summary>A database a query can be held on; each query opens a connection of its own (a context factory's way).</summary>
public sealed class SearchDatabase
{
    private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completed;

    public SearchDatabase() => _gate.SetResult();

    public string Answer { get; set; } = "old";

    public Task Started => _started.Task;

    public int Completed => Volatile.Read(ref _completed);

    public void Hold()
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release() => _gate.SetResult();

    public async Task<string> QueryAsync()
    {
        _started.TrySetResult();
        await _gate.Task;
        Interlocked.Increment(ref _completed);
        return Answer;
    }
}

/// <summary>A scoped service whose cached query makes what it needs per call, so a background fill does not depend on the request.</summary>
public sealed partial class SearchQueries(SearchDatabase database, HybridCache cache)
{
    [Cached("posts", Key = "search:{id}", TtlSeconds = 10, StaleSeconds = 60, TimeoutMilliseconds = 200)]
    public partial Task<string> SearchAsync(int id);
    private Task<string> SearchCoreAsync(int id) => database.QueryAsync();
}

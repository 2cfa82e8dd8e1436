using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Batch read-through ([CachedBatch]) as generated code calls it, through IMethodBatchCache, on a real redis-server:
/// the entries are the single method's own, the data call gets only the ids that missed, each once.
/// </summary>
public sealed class BatchTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    internal static readonly CachedMethod Get = new("Blog.PostService.GetAsync", "posts", null);

    [Fact]
    public async Task A_cold_batch_calls_the_data_call_once_with_the_distinct_ids_and_stores_entries_the_single_method_reads()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();

        Dictionary<int, string?> found = await posts.ManyAsync(a, Get, [1, 2, 3, 2, 1]);

        Assert.Equal(new Dictionary<int, string?> { [1] = "post 1", [2] = "post 2", [3] = "post 3" }, found);
        Assert.Equal([[1, 2, 3]], posts.Calls);
        await a.SettledAsync();
        // The single method finds them, here and on another instance (from Redis), without asking the database.
        Assert.Equal("post 2", await posts.OneAsync(a, Get, 2));
        Assert.Equal("post 3", await posts.OneAsync(b, Get, 3));
        Assert.Single(posts.Calls);
    }

    [Fact]
    public async Task A_batch_loads_only_what_is_not_cached_in_process_or_in_Redis()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        await posts.OneAsync(a, Get, 1);      // in a's L1 and in Redis
        await a.SettledAsync();
        await posts.OneAsync(b, Get, 2);      // in b's L1 and in Redis
        await b.SettledAsync();

        Dictionary<int, string?> found = await posts.ManyAsync(a, Get, [1, 2, 3]);

        Assert.Equal(["post 1", "post 2", "post 3"], found.OrderBy(p => p.Key).Select(p => p.Value));
        Assert.Equal([[3]], posts.Calls);
        Assert.Equal(2, posts.SingleCalls);
    }

    [Fact]
    public async Task Ids_the_data_call_leaves_out_are_absent_and_remembered_as_not_found()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        var posts = new Posts { Missing = [2] };

        Dictionary<int, string?> found = await posts.ManyAsync(a, Get, [1, 2]);
        await a.SettledAsync();

        Assert.Equal([1], found.Keys);
        Assert.False(found.ContainsKey(2));
        // Not found is the single method's null entry: neither a batch nor a single read asks again, on either instance.
        Assert.Equal([1], (await posts.ManyAsync(b, Get, [1, 2])).Keys);
        Assert.Null(await posts.OneAsync(b, Get, 2));
        Assert.Single(posts.Calls);
    }

    [Fact]
    public async Task Without_CacheNull_a_missing_id_is_asked_for_again()
    {
        var method = new CachedMethod("Blog.PostService.GetAsync", "posts", null) { CacheNull = false };
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts { Missing = [2] };

        await posts.ManyAsync(a, method, [1, 2]);
        await a.SettledAsync();
        await posts.ManyAsync(a, method, [1, 2]);

        Assert.Equal([[1, 2], [2]], posts.Calls);
    }

    [Fact]
    public async Task A_value_Unless_rejects_is_returned_but_not_stored()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        Func<string?, bool> unless = value => value == "post 2";

        Assert.Equal(2, (await posts.ManyAsync(a, Get, [1, 2], unless: unless)).Count);
        await a.SettledAsync();
        Assert.Equal(2, (await posts.ManyAsync(a, Get, [1, 2], unless: unless)).Count);

        Assert.Equal([[1, 2], [2]], posts.Calls);
    }

    [Fact]
    public async Task Each_entry_carries_its_own_tags_so_a_tag_eviction_reloads_only_its_id()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        await posts.ManyAsync(a, Get, [1, 2, 3]);
        await a.SettledAsync();

        await a.Cache.RemoveByTagAsync(posts.TagOf(2));
        await posts.ManyAsync(a, Get, [1, 2, 3]);

        Assert.Equal([[1, 2, 3], [2]], posts.Calls);
    }

    [Fact]
    public async Task An_eviction_during_the_data_call_wins_for_its_id_only()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        posts.During = async () => await a.Cache.RemoveAsync(posts.KeyOf(2));

        Dictionary<int, string?> found = await posts.ManyAsync(a, Get, [1, 2]);
        await a.SettledAsync();
        posts.During = null;

        // The caller still gets what it loaded; the cache keeps id 1 only, in-process and in Redis.
        Assert.Equal(2, found.Count);
        Assert.Equal("post 1", await posts.OneAsync(b, Get, 1));
        Assert.Equal(0, posts.SingleCalls);
        Assert.Equal("post 2", await posts.OneAsync(a, Get, 2));
        Assert.Equal(1, posts.SingleCalls);
    }

    [Fact]
    public async Task A_batch_joins_a_single_fill_in_flight_and_a_single_call_joins_a_batch_in_flight()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();

        // A single fill of id 1 is running: the batch loads id 2 only and gets id 1 from that fill.
        var single = new TaskCompletionSource();
        Task<string?> one = posts.OneAsync(a, Get, 1, single.Task).AsTask();
        await Eventually.Until(() => a.Hooks.FlightCount == 1, "the single fill to start");
        Task<Dictionary<int, string?>> many = posts.ManyAsync(a, Get, [1, 2]).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 1, "the batch's data call");
        single.SetResult();
        Assert.Equal(["post 1", "post 2"], (await many).OrderBy(p => p.Key).Select(p => p.Value));
        Assert.Equal("post 1", await one);
        Assert.Equal([[2]], posts.Calls);
        Assert.Equal(1, posts.SingleCalls);

        // A batch of ids 3 and 4 is running: a single call of id 4 joins it rather than asking the database.
        var batch = new TaskCompletionSource();
        posts.During = () => new ValueTask(batch.Task);
        many = posts.ManyAsync(a, Get, [3, 4]).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 2, "the second batch's data call");
        one = posts.OneAsync(a, Get, 4).AsTask();
        await Task.Delay(100);
        batch.SetResult();
        Assert.Equal("post 4", await one);
        Assert.Equal(2, (await many).Count);
        Assert.Equal(1, posts.SingleCalls);
    }

    [Fact]
    public async Task Overlapping_batches_load_each_id_once()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        var gate = new TaskCompletionSource();
        posts.During = () => new ValueTask(gate.Task);

        Task<Dictionary<int, string?>> first = posts.ManyAsync(a, Get, [1, 2, 3]).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 1, "the first batch's data call");
        Task<Dictionary<int, string?>> second = posts.ManyAsync(a, Get, [2, 3, 4]).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 2, "the second batch's data call");
        gate.SetResult();

        Assert.Equal(3, (await first).Count);
        Assert.Equal([2, 3, 4], (await second).Keys.Order());
        Assert.Equal([[1, 2, 3], [4]], posts.Calls);
    }

    [Fact]
    public async Task A_caller_that_cancels_fails_neither_a_single_caller_nor_a_batch_that_joined_its_ids()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        var gate = new TaskCompletionSource();
        posts.During = () => new ValueTask(gate.Task);
        using var leaving = new CancellationTokenSource();

        Task<Dictionary<int, string?>> first = posts.ManyAsync(a, Get, [1, 2], leaving.Token).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 1, "the first batch's data call");
        Task<string?> single = posts.OneAsync(a, Get, 1).AsTask();
        Task<Dictionary<int, string?>> second = posts.ManyAsync(a, Get, [2, 3]).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 2, "the second batch's data call");
        await Task.Delay(20);

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        gate.SetResult();

        Assert.Equal("post 1", await single);
        Assert.Equal(["post 2", "post 3"], (await second).OrderBy(p => p.Key).Select(p => p.Value));
    }

    [Fact]
    public async Task A_caller_that_cancels_alone_cancels_the_data_call()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        var cancelled = new TaskCompletionSource();
        posts.During = async () =>
        {
            await Task.Delay(Timeout.Infinite, posts.Token);
        };
        posts.Cancelled = () => cancelled.TrySetResult();
        using var leaving = new CancellationTokenSource();

        Task<Dictionary<int, string?>> batch = posts.ManyAsync(a, Get, [1, 2], leaving.Token).AsTask();
        await Eventually.Until(() => posts.Calls.Count == 1, "the batch's data call");
        leaving.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batch);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.Until(() => a.Hooks.FlightCount == 0, "the flights to leave the registry");
    }

    [Fact]
    public async Task When_the_data_call_fails_ids_with_an_expired_value_are_served_and_the_batch_fails_for_the_rest()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var method = new CachedMethod("Blog.PostService.GetAsync", "posts", new() { Expiration = TimeSpan.FromSeconds(10) }) { StaleFor = TimeSpan.FromMinutes(1) };
        await using var a = CacheInstance.Create(redis.Configuration, time: clock);
        var posts = new Posts();
        await posts.ManyAsync(a, method, [1, 2]);
        await a.SettledAsync();
        clock.Advance(TimeSpan.FromSeconds(11));
        posts.During = () => throw new InvalidOperationException("the database is down");

        // Every id has a fallback: the batch is served from them.
        Assert.Equal(["post 1", "post 2"], (await posts.ManyAsync(a, method, [1, 2])).OrderBy(p => p.Key).Select(p => p.Value));
        // Id 3 has none: it fails as the single method would, and the batch with it.
        await Assert.ThrowsAsync<InvalidOperationException>(() => posts.ManyAsync(a, method, [2, 3]).AsTask());
    }

    [Fact]
    public async Task A_warm_batch_from_another_instance_is_one_MGET()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        var posts = new Posts();
        int[] ids = [.. Enumerable.Range(1, 100)];
        await posts.ManyAsync(a, Get, ids);
        await a.SettledAsync();
        // b reads the tags once, so the counted batch is warm in Redis in every respect.
        await posts.OneAsync(b, Get, 1);
        await b.SettledAsync();

        redis.Cli("CONFIG", "RESETSTAT");
        Dictionary<int, string?> found = await posts.ManyAsync(b, Get, ids[1..]);
        string stats = redis.Cli("INFO", "commandstats");

        Assert.Equal(99, found.Count);
        Assert.Single(posts.Calls);
        Assert.Equal(1, CommandCount(stats, "mget"));
        Assert.Equal(0, CommandCount(stats, "evalsha") + CommandCount(stats, "eval") + CommandCount(stats, "get"));
    }

    [Fact]
    public async Task Evicting_many_keys_drops_each_on_every_instance_and_only_those()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        await b.Hooks.BackplaneReady;
        var posts = new Posts();
        await posts.ManyAsync(a, Get, [1, 2, 3]);
        await a.SettledAsync();
        await posts.ManyAsync(b, Get, [1, 2, 3]);

        await Invalidation.RemoveManyAsync(a.Cache, [posts.KeyOf(1), posts.KeyOf(2), posts.KeyOf(1)]);

        await posts.ManyAsync(a, Get, [1, 2, 3]);
        Assert.Equal([[1, 2, 3], [1, 2]], posts.Calls);
        // b's in-process copies go when a's message (one for both keys) arrives; Redis already has a's refill.
        await a.SettledAsync();
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied >= 1, "b to apply a's evictions");
        await posts.ManyAsync(b, Get, [1, 2, 3]);
        Assert.Equal(2, posts.Calls.Count);
    }

    [Fact]
    public async Task A_value_type_id_the_data_call_leaves_out_is_absent_and_asked_for_again()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string prefix = "{posts}:" + Guid.NewGuid().ToString("N") + ":";
        var calls = new List<int[]>();
        Dictionary<int, int> first = await ((IMethodBatchCache)a.Cache).GetOrCreateManyAsync(Get, [1, 2], (Prefix: prefix, Calls: calls),
            static (s, id) => s.Prefix + id,
            static (s, missed, _) =>
            {
                s.Calls.Add([.. missed]);
                return new ValueTask<IReadOnlyDictionary<int, int>>(new Dictionary<int, int> { [1] = 10 });
            },
            null, null, default);
        await a.SettledAsync();
        Dictionary<int, int> second = await ((IMethodBatchCache)a.Cache).GetOrCreateManyAsync(Get, [1, 2], (Prefix: prefix, Calls: calls),
            static (s, id) => s.Prefix + id,
            static (s, missed, _) =>
            {
                s.Calls.Add([.. missed]);
                return new ValueTask<IReadOnlyDictionary<int, int>>(new Dictionary<int, int> { [1] = 10 });
            },
            null, null, default);

        Assert.Equal(new Dictionary<int, int> { [1] = 10 }, first);
        Assert.Equal(first, second);
        Assert.Equal([[1, 2], [2]], calls);
    }

    /// <summary>How many times INFO commandstats says <paramref name="command"/> ran.</summary>
    internal static long CommandCount(string stats, string command)
    {
        foreach (string line in stats.Split('\n'))
        {
            if (line.StartsWith("cmdstat_" + command + ":", StringComparison.Ordinal))
                return long.Parse(line.Split("calls=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        return 0;
    }
}

/// <summary>The data calls of a post service, single and batch, counting what they are asked for.</summary>
internal sealed class Posts
{
    private readonly string _prefix = Guid.NewGuid().ToString("N");
    private readonly List<int[]> _calls = [];
    private int _singleCalls;

    /// <summary>Ids the database does not have.</summary>
    public HashSet<int> Missing { get; init; } = [];

    /// <summary>Runs inside each batch data call, after it was counted.</summary>
    public Func<ValueTask>? During { get; set; }

    /// <summary>Called when a batch data call sees its token cancelled.</summary>
    public Action? Cancelled { get; set; }

    /// <summary>The token of the latest batch data call.</summary>
    public CancellationToken Token { get; private set; }

    public List<int[]> Calls
    {
        get
        {
            lock (_calls)
                return [.. _calls];
        }
    }

    public int SingleCalls => Volatile.Read(ref _singleCalls);

    public string KeyOf(int id) => "{posts}:" + _prefix + ":" + id;

    public string TagOf(int id) => "{posts}:" + _prefix + ":tag:" + id;

    private string[] TagsOf(int id) => ["posts", TagOf(id)];

    public async ValueTask<IReadOnlyDictionary<int, string?>> LoadAsync(IReadOnlyList<int> ids, CancellationToken token)
    {
        lock (_calls)
            _calls.Add([.. ids]);
        Token = token;
        try
        {
            if (During is { } during)
                await during();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Cancelled?.Invoke();
            throw;
        }
        return ids.Where(id => !Missing.Contains(id)).ToDictionary(id => id, id => (string?)("post " + id));
    }

    public ValueTask<Dictionary<int, string?>> ManyAsync(CacheInstance instance, CachedMethod method, IEnumerable<int> ids,
        CancellationToken cancellationToken = default, Func<string?, bool>? unless = null) =>
        ((IMethodBatchCache)instance.Cache).GetOrCreateManyAsync(method, ids, this,
            static (posts, id) => posts.KeyOf(id),
            static (posts, missed, token) => posts.LoadAsync(missed, token),
            static (posts, id) => posts.TagsOf(id),
            unless, cancellationToken);

    public ValueTask<string?> OneAsync(CacheInstance instance, CachedMethod method, int id, Task? gate = null) =>
        ((IMethodCache)instance.Cache).GetOrCreateAsync(method, KeyOf(id), (Posts: this, Id: id, Gate: gate),
            static async (s, _) =>
            {
                Interlocked.Increment(ref s.Posts._singleCalls);
                if (s.Gate is not null)
                    await s.Gate;
                return s.Posts.Missing.Contains(s.Id) ? null : "post " + s.Id;
            },
            static s => s.Posts.TagsOf(s.Id), null, default);
}

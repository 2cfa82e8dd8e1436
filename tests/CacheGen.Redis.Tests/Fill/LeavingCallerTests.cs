using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Redis.Tests;

/// <summary>The database behind the scoped contexts: one slow query the test releases, counted.</summary>
public sealed class SlowDatabase
{
    private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _queries;

    public int Queries => Volatile.Read(ref _queries);

    public Task Answer => _answer.Task;

    public void Release() => _answer.TrySetResult();

    public void Started() => Interlocked.Increment(ref _queries);

    public Task QueriesStarted(int count) => Eventually.Until(() => Queries >= count, $"{count} queries");
}

/// <summary>One request: its abort token, which a context may observe (as code reading HttpContext.RequestAborted does).</summary>
public sealed class RequestScope
{
    public CancellationTokenSource Aborted { get; } = new();

    /// <summary>Whether this request's context passes its own abort token to the database.</summary>
    public bool QueriesObserveTheRequest { get; set; }
}

/// <summary>A scoped database context: disposed with its request, after which it throws like EF Core's.</summary>
public sealed class ScopedContext(SlowDatabase database, RequestScope request) : IDisposable
{
    private int _disposed;

    public async Task<string> TitleAsync(int id, CancellationToken cancellationToken)
    {
        database.Started();
        CancellationToken observed = request.QueriesObserveTheRequest ? request.Aborted.Token : cancellationToken;
        await database.Answer.WaitAsync(observed);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return "post " + id;
    }

    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);
}

/// <summary>A scoped service with a slow cached query over its scoped context.</summary>
public sealed partial class ScopedPostQueries(ScopedContext context, HybridCache cache)
{
    [Cached("posts", Key = "scoped-title:{id}")]
    public partial Task<string> TitleAsync(int id, CancellationToken ct = default);

    private Task<string> TitleCoreAsync(int id, CancellationToken ct) => context.TitleAsync(id, ct);
}

/// <summary>
/// A caller never fails because another caller left: request A starts the fill with its own scoped context, request B
/// joins, A's client gives up and A's scope is disposed. B must get a value, computed again with its own context when
/// A's fill fails.
/// </summary>
public sealed class LeavingCallerTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    private ServiceProvider Application(bool withRedis, SlowDatabase database)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddCacheGen(o =>
        {
            o.Redis = withRedis ? redis.Configuration : null;
            o.KeyPrefix = "example";
            o.RedisTimeout = TimeSpan.FromSeconds(5);
            o.RedisStallTimeout = TimeSpan.FromSeconds(5);
        });
        services.AddSingleton(database);
        services.AddScoped<RequestScope>();
        services.AddScoped<ScopedContext>();
        services.AddScoped<ScopedPostQueries>();
        return services.BuildServiceProvider();
    }

    private static (AsyncServiceScope Scope, RequestScope Request, Task<string> Title) Request(ServiceProvider application, int id, bool observesRequest)
    {
        AsyncServiceScope scope = application.CreateAsyncScope();
        var request = scope.ServiceProvider.GetRequiredService<RequestScope>();
        request.QueriesObserveTheRequest = observesRequest;
        Task<string> title = scope.ServiceProvider.GetRequiredService<ScopedPostQueries>().TitleAsync(id, request.Aborted.Token);
        return (scope, request, title);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task A_waiting_request_gets_its_value_when_the_request_that_started_the_fill_leaves(bool withRedis, bool contextObservesTheRequest)
    {
        var database = new SlowDatabase();
        await using ServiceProvider application = Application(withRedis, database);
        int id = Random.Shared.Next();

        var a = Request(application, id, contextObservesTheRequest);
        await database.QueriesStarted(1);
        var b = Request(application, id, contextObservesTheRequest);
        await using AsyncServiceScope bScope = b.Scope;

        // A's client gives up, then A's request ends and its context is disposed (its query may already have
        // failed with A's token); only then does the slow query come back.
        a.Request.Aborted.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Title.WaitAsync(HangGuard));
        await a.Scope.DisposeAsync();
        database.Release();

        Assert.Equal("post " + id, await b.Title.WaitAsync(HangGuard));
        Assert.Equal(2, database.Queries);
        Assert.False(b.Title.IsFaulted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task When_the_fill_succeeds_after_its_starter_left_the_waiting_request_gets_it_without_a_second_query(bool withRedis)
    {
        var database = new SlowDatabase();
        await using ServiceProvider application = Application(withRedis, database);
        int id = Random.Shared.Next();

        var a = Request(application, id, observesRequest: false);
        await database.QueriesStarted(1);
        var b = Request(application, id, observesRequest: false);
        await using AsyncServiceScope bScope = b.Scope;
        a.Request.Aborted.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Title.WaitAsync(HangGuard));
        database.Release();   // A's context is still alive: the query succeeds

        Assert.Equal("post " + id, await b.Title.WaitAsync(HangGuard));
        await a.Scope.DisposeAsync();
        Assert.Equal(1, database.Queries);
    }

    [Fact]
    public async Task A_waiting_caller_that_gives_up_itself_is_not_given_a_second_fill()
    {
        await using var instance = CacheInstance.Create(redis: null);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<string>> failsWhenItsCallerLeft = async ct =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            throw new ObjectDisposedException("context");
        };
        using var aGivesUp = new CancellationTokenSource();
        using var bGivesUp = new CancellationTokenSource();

        Task<string> a = instance.Cache.GetOrCreateAsync(key, failsWhenItsCallerLeft, tags: Entry.Posts, cancellationToken: aGivesUp.Token).AsTask();
        Task<string> b = instance.Cache.GetOrCreateAsync(key, failsWhenItsCallerLeft, tags: Entry.Posts, cancellationToken: bGivesUp.Token).AsTask();
        aGivesUp.Cancel();
        bGivesUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.WaitAsync(HangGuard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitAsync(HangGuard));
        release.SetResult();

        Assert.Equal("fresh", await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("fresh"), tags: Entry.Posts));
        Assert.Equal(1, calls);
    }
}

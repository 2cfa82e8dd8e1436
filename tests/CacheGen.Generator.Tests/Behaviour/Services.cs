using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

// Services written the way a user would; this project's build generates their wrappers.

public sealed class Item
{
    public int Id { get; init; }
}

public sealed partial class Catalog(HybridCache cache)
{
    private int _coreCalls;
    private int _tagCounts;

    public int Version { get; set; }
    public int CoreCalls => _coreCalls;
    public bool LastTokenCouldBeCancelled { get; private set; }

    [Cached("items")]
    public partial Task<string> GetAsync(int id, CancellationToken ct = default);
    private async Task<string> GetCoreAsync(int id, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _coreCalls);
        LastTokenCouldBeCancelled = ct.CanBeCanceled;
        await Task.Yield();
        return $"item {id} v{Version}";
    }

    [Cached("items")]
    public partial ValueTask<int> PeekAsync(int value);
    private ValueTask<int> PeekCoreAsync(int value)
    {
        Interlocked.Increment(ref _coreCalls);
        return new(value);
    }

    [Cached("items")]
    public partial string Describe(int id);
    private string DescribeCore(int id)
    {
        Interlocked.Increment(ref _coreCalls);
        return $"sync {id}";
    }

    [Cached("items", Key = "item:{id}")]
    public partial Task<string> GetByTemplateAsync(int id);
    private Task<string> GetByTemplateCoreAsync(int id) => Task.FromResult($"item {id} v{Version}");

    [Cached("tags")]
    public partial Task<int> CountTagsAsync();
    private Task<int> CountTagsCoreAsync() => Task.FromResult(++_tagCounts);

    [InvalidatesCache("items")]
    public partial Task SaveAsync(int id);
    private Task SaveCoreAsync(int id) => Task.CompletedTask;

    [InvalidatesCache("items")]
    public partial Task FailingSaveAsync(int id);
    private Task FailingSaveCoreAsync(int id) => throw new InvalidOperationException("the database refused the write");

    [InvalidatesCache("items")]
    public partial void FailingSave(int id);
    private void FailingSaveCore(int id) => throw new InvalidOperationException("the database refused the write");

    // The caller's token is cancelled while the write completes: the eviction must happen all the same.
    [InvalidatesCache("items")]
    public partial Task SaveAndCancelAsync(int id, CancellationTokenSource caller, CancellationToken ct = default);
    public Task SaveAndCancelAsync(int id, CancellationTokenSource caller) => SaveAndCancelAsync(id, caller, caller.Token);
    private Task SaveAndCancelCoreAsync(int id, CancellationTokenSource caller, CancellationToken ct)
    {
        caller.Cancel();
        return Task.CompletedTask;
    }

    [InvalidatesCache("items", Key = "item:{item.Id}")]
    public partial void Touch(Item item);
    private void TouchCore(Item item)
    {
    }

    [InvalidatesCache("items", "tags")]
    public partial Task RenameAsync();
    private Task RenameCoreAsync() => Task.CompletedTask;
}

public sealed partial class KeyProbe(HybridCache cache)
{
    private int _coreCalls;

    public int CoreCalls => _coreCalls;

    [Cached("keys")]
    public partial string Pair(string? a, string? b);
    private string PairCore(string? a, string? b) => Next();

    [Cached("keys")]
    public partial string Single(string? a);
    private string SingleCore(string? a) => Next();

    [Cached("keys")]
    public partial string Number(int n);
    private string NumberCore(int n) => Next();

    [Cached("keys")]
    public partial string Number(long n);
    private string NumberCore(long n) => Next();

    [Cached("keys")]
    public partial Task<string> RatioAsync(double ratio);
    private Task<string> RatioCoreAsync(double ratio) => Task.FromResult(Next());

    private string Next() => Interlocked.Increment(ref _coreCalls).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public static partial class Registry<T> where T : ISpanFormattable
{
    public static HybridCache Cache { get; set; } = null!;

    [Cached("registry")]
    public static partial Task<string> LookupAsync(T value);
    private static Task<string> LookupCoreAsync(T value) => Task.FromResult($"{typeof(T).Name}:{value}");
}

public sealed partial class SyncCatalog(HybridCache cache)
{
    [Cached("sync")]
    public partial string Describe(int id);
    private string DescribeCore(int id) => $"sync {id}";
}

/// <summary>Resumes on whatever context was current when it was called, as a careless HybridCache would.</summary>
public sealed class ContextCapturingCache(HybridCache inner) : HybridCache
{
    public override async ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        await Task.Delay(1, cancellationToken); // no ConfigureAwait(false), on purpose
        return await inner.GetOrCreateAsync(key, state, factory, options, tags, cancellationToken);
    }

    public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) =>
        inner.SetAsync(key, value, options, tags, cancellationToken);

    public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => inner.RemoveAsync(key, cancellationToken);

    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => inner.RemoveByTagAsync(tag, cancellationToken);
}

/// <summary>A UI-thread-like context: continuations run only when its own (here: blocked) thread pumps them.</summary>
public sealed class SingleThreadContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_queue)
            _queue.Enqueue((d, state));
    }
}

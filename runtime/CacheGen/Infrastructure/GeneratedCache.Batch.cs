using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

// [CachedBatch]: one batch read-through on IMethodBatchCache, else one read-through per id.
public static partial class GeneratedCache
{
    // Batch methods whose fallback was reported: once per method, as with the other CacheGen-only features.
    private static readonly ConditionalWeakTable<CachedMethod, object> BatchDegradationReported = new();

    /// <summary>
    /// Batch read-through; see <see cref="IMethodBatchCache.GetOrCreateManyAsync"/>. On another cache, each id is read
    /// through on its own, one after another (the factory then gets one id at a time: the ids of a batch typically
    /// share one database context, which must not run two queries at once), and that is said once per method
    /// (<see cref="CacheGenEventSource"/>).
    /// </summary>
    public static ValueTask<Dictionary<TId, T>> GetOrCreateManyAsync<TId, TState, T>(HybridCache cache, CachedMethod method, IEnumerable<TId> ids,
        TState state, Func<TState, TId, string> key, Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory,
        Func<TState, TId, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken)
        where TId : notnull
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        if (cache is IMethodBatchCache own)
            return own.GetOrCreateManyAsync(method, ids, state, key, factory, tags, unless, cancellationToken);
        ReportBatchDegradationOnce(cache, method, unless is not null);
        return OneByOneAsync(cache, method, ids, state, key, factory, tags, cancellationToken);
    }

    private static async ValueTask<Dictionary<TId, T>> OneByOneAsync<TId, TState, T>(HybridCache cache, CachedMethod method, IEnumerable<TId> ids,
        TState state, Func<TState, TId, string> key, Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory,
        Func<TState, TId, string[]>? tags, CancellationToken cancellationToken)
        where TId : notnull
    {
        var found = new Dictionary<TId, T>();
        var seen = new HashSet<TId>();
        foreach (TId id in ids)
        {
            if (!seen.Add(id))
                continue;
            // Not found is a null entry, as the single method's own core would say; a value type has no such entry, so
            // its absence is not cached (the factory is asked again next time).
            (bool isFound, T value) = await ReadOrNotFoundAsync(cache.GetOrCreateAsync(key(state, id), (State: state, Id: id, Factory: factory),
                static async (s, token) =>
                {
                    IReadOnlyDictionary<TId, T>? values = await s.Factory(s.State, [s.Id], token).ConfigureAwait(false);
                    if (values is not null && values.TryGetValue(s.Id, out T? value))
                        return value;
                    return default(T) is null ? default! : throw new NotFoundInBatchException();
                },
                method.Options, tags is null ? method.RegionTags : tags(state, id), cancellationToken)).ConfigureAwait(false);
            if (isFound && value is not null)
                found[id] = value;
        }
        return found;
    }

    private static async Task<(bool Found, T Value)> ReadOrNotFoundAsync<T>(ValueTask<T> read)
    {
        try
        {
            return (true, await read.ConfigureAwait(false));
        }
        catch (NotFoundInBatchException)
        {
            return (false, default!);
        }
    }

    private static void ReportBatchDegradationOnce(HybridCache cache, CachedMethod method, bool hasUnless)
    {
        method.ReportDegradationOnce(cache, hasUnless);
        if (BatchDegradationReported.TryAdd(method, method))
            CacheGenEventSource.Log.FeaturesNotSupported(method.Name, "CachedBatch (one read and one core call per missed id)",
                cache.GetType().FullName ?? cache.GetType().Name);
    }
}

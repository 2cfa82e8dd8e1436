using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

/// <summary>
/// The calls generated code makes for <c>[Cached]</c> and <c>[UpdatesCache]</c>: through <see cref="IMethodCache"/>
/// when the cache has it (CacheGen.Redis), else through plain <see cref="HybridCache"/> calls, which lose only what
/// HybridCache cannot express (tags are then built on every call, and a write-through becomes an eviction).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class GeneratedCache
{
    /// <summary>
    /// Read-through for <paramref name="method"/>; see <see cref="IMethodCache.GetOrCreateAsync"/>. On another cache, what
    /// it cannot honour (fail-safe, the soft timeout, conditions) is left out, and said once per method
    /// (<see cref="CacheGenEventSource"/>).
    /// </summary>
    public static ValueTask<T> GetOrCreateAsync<TState, T>(HybridCache cache, CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken)
    {
        if (cache is IMethodCache own)
            return own.GetOrCreateAsync(method, key, state, factory, tags, unless, cancellationToken);
        method.ReportDegradationOnce(cache, unless is not null);
        return cache.GetOrCreateAsync(key, state, factory, method.Options, tags is null ? method.RegionTags : tags(state), cancellationToken);
    }

    /// <summary>Starts a write-through; see <see cref="IMethodCache.BeginUpdateAsync"/>.</summary>
    public static ValueTask<CacheUpdate> BeginUpdateAsync(HybridCache cache, CachedMethod method, string key, string[] tags) =>
        cache is IMethodCache own ? own.BeginUpdateAsync(method, key, tags) : new ValueTask<CacheUpdate>(new CacheUpdate(method, key, tags));

    /// <summary>
    /// Completes a write-through; see <see cref="IMethodCache.CompleteUpdateAsync"/>. Without <see cref="IMethodCache"/>
    /// nothing tells whether another write overlapped this one, so the entry is evicted rather than stored; inside a
    /// transaction too, since the value is not committed yet (it is evicted again after the commit).
    /// </summary>
    public static ValueTask CompleteUpdateAsync<T>(HybridCache cache, CacheUpdate update, T value, Func<T, bool>? unless) =>
        cache is IMethodCache own && !Invalidation.InTransaction
            ? own.CompleteUpdateAsync(update, value, unless)
            : Invalidation.RemoveAsync(cache, update.Key);
}

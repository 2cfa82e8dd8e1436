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
    /// Read-through for <paramref name="method"/>; see <see cref="IMethodCache.GetOrCreateAsync{TState, T}(CachedMethod, ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{T}}, Func{TState, string[]}, Func{T, bool}, CancellationToken)"/>. On another cache, what
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

    /// <summary>
    /// Read-through for a method that decides from its value (<c>TtlFrom</c>, tags from the result); see
    /// <see cref="IMethodCache"/>. On another cache neither the lifetime nor the tags can be set from the value, and
    /// without them a value could outlive it (a token kept past its expiry) or miss the eviction of a tag it carries, so
    /// the method is not cached there: every call runs the core method, and that is said once per method.
    /// </summary>
    public static ValueTask<T> GetOrCreateAsync<TState, T>(HybridCache cache, CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, ResultRules<T> rules, CancellationToken cancellationToken)
    {
        if (cache is IMethodCache own)
            return own.GetOrCreateAsync(method, key, state, factory, tags, rules, cancellationToken);
        method.ReportDegradationOnce(cache, rules.Unless is not null, rules.Lifetime is not null);
        // Without its own lifetime, or without the tags its eviction names, a value could be served after it should not.
        if (rules.Lifetime is not null || method.ValueTagFences is { Length: > 0 })
            return factory(state, cancellationToken);
        return cache.GetOrCreateAsync(key, state, factory, method.Options, tags is null ? method.RegionTags : tags(state), cancellationToken);
    }

    /// <summary>Completes a write-through of a method that decides from its value; see <see cref="CompleteUpdateAsync{T}(HybridCache, CacheUpdate, T, Func{T, bool})"/>.</summary>
    public static ValueTask CompleteUpdateAsync<T>(HybridCache cache, CacheUpdate update, T value, ResultRules<T> rules) =>
        cache is IMethodCache own && !Invalidation.InTransaction
            ? own.CompleteUpdateAsync(update, value, rules)
            : Invalidation.RemoveAsync(cache, update.Key);

    /// <summary>Starts a write-through; see <see cref="IMethodCache.BeginUpdateAsync"/>.</summary>
    public static ValueTask<CacheUpdate> BeginUpdateAsync(HybridCache cache, CachedMethod method, string key, string[] tags) =>
        cache is IMethodCache own ? own.BeginUpdateAsync(method, key, tags) : new ValueTask<CacheUpdate>(new CacheUpdate(method, key, tags));

    /// <summary>
    /// Completes a write-through; see <see cref="IMethodCache.CompleteUpdateAsync{T}(CacheUpdate, T, Func{T, bool})"/>. Without <see cref="IMethodCache"/>
    /// nothing tells whether another write overlapped this one, so the entry is evicted rather than stored; inside a
    /// transaction too, since the value is not committed yet (it is evicted again after the commit).
    /// </summary>
    public static ValueTask CompleteUpdateAsync<T>(HybridCache cache, CacheUpdate update, T value, Func<T, bool>? unless) =>
        cache is IMethodCache own && !Invalidation.InTransaction
            ? own.CompleteUpdateAsync(update, value, unless)
            : Invalidation.RemoveAsync(cache, update.Key);
}

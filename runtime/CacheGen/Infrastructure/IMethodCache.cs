using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// What a <see cref="Microsoft.Extensions.Caching.Hybrid.HybridCache"/> can offer generated code beyond HybridCache's
/// own API. Generated code asks for it with a type test (no reflection) through <see cref="GeneratedCache"/>, and
/// falls back to plain HybridCache calls on implementations that do not have it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IMethodCache
{
    /// <summary>
    /// Read-through for a <c>[Cached]</c> method. <paramref name="tags"/> builds the entry's tags from the state and is
    /// called only when the entry is filled, so a hit builds none; null means <see cref="CachedMethod.RegionTags"/>.
    /// A result <paramref name="unless"/> returns true for is returned but not stored.
    /// </summary>
    ValueTask<T> GetOrCreateAsync<TState, T>(CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a write-through of <paramref name="method"/>'s entry under <paramref name="key"/>: called before the
    /// write runs, so whatever happens to the entry while it runs can be seen when it completes.
    /// </summary>
    ValueTask<CacheUpdate> BeginUpdateAsync(CachedMethod method, string key, string[] tags);

    /// <summary>
    /// Stores <paramref name="value"/> as the entry, guarded like a fill: if another write, eviction or fill of the
    /// entry overlapped the update, or the cached method would not store the value (a null with CacheNull = false, one
    /// <paramref name="unless"/> returns true for), evicts the entry instead.
    /// </summary>
    ValueTask CompleteUpdateAsync<T>(CacheUpdate update, T value, Func<T, bool>? unless);

    /// <summary>
    /// Read-through as <see cref="GetOrCreateAsync{TState, T}(CachedMethod, ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{T}}, Func{TState, string[]}, Func{T, bool}, CancellationToken)"/>,
    /// with what the method decides from the value: whether it is stored and for how long (<c>TtlFrom</c>).
    /// </summary>
    ValueTask<T> GetOrCreateAsync<TState, T>(CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, ResultRules<T> rules, CancellationToken cancellationToken);

    /// <summary>
    /// Completes a write-through as <see cref="CompleteUpdateAsync{T}(CacheUpdate, T, Func{T, bool})"/>, with what the
    /// cached method decides from the value: a value it would not store, or whose lifetime is zero or less, evicts the entry.
    /// </summary>
    ValueTask CompleteUpdateAsync<T>(CacheUpdate update, T value, ResultRules<T> rules);
}

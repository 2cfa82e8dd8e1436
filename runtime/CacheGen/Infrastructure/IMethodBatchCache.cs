using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// Batch read-through for a <c>[CachedBatch]</c> method: many entries of one <c>[Cached]</c> method at once, the very
/// entries that method reads and writes. Generated code asks for it with a type test through
/// <see cref="GeneratedCache.GetOrCreateManyAsync"/>, which falls back to one read-through per id on caches without it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IMethodBatchCache
{
    /// <summary>
    /// Returns the value of every id in <paramref name="ids"/> that has one: hits from the cache, the rest from one call
    /// of <paramref name="factory"/> with only the ids that missed (each once). Each value the factory returns is
    /// stored as <paramref name="method"/>'s entry under <paramref name="key"/> of its id, with the tags
    /// <paramref name="tags"/> builds (null: <see cref="CachedMethod.RegionTags"/>), unless <paramref name="unless"/>
    /// rejects it. An id the factory leaves out is absent from the result, and is stored as a null entry (not found) when
    /// the method caches nulls and the value type has one. A null value is never in the result.
    /// </summary>
    ValueTask<Dictionary<TId, T>> GetOrCreateManyAsync<TId, TState, T>(CachedMethod method, IEnumerable<TId> ids, TState state,
        Func<TState, TId, string> key, Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory,
        Func<TState, TId, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken)
        where TId : notnull;
}

using System.Runtime.CompilerServices;
using CacheGen.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen;

/// <summary>Batch read-through on any <see cref="HybridCache"/>, for code that is not generated.</summary>
public static class HybridCacheBatchExtensions
{
    private static readonly CachedMethod DefaultOptions = new(MethodName, "", null);
    private static readonly ConditionalWeakTable<HybridCacheEntryOptions, CachedMethod> ByOptions = new();
    private const string MethodName = "HybridCache.GetOrCreateManyAsync";

    /// <summary>
    /// Returns the value of every id in <paramref name="ids"/> that has one: the cached ones, and the rest from a single
    /// call of <paramref name="factory"/> with only the ids that missed, each once. Every value the factory returns is
    /// stored under <paramref name="key"/> of its id, as <c>GetOrCreateAsync</c> with that key would store it, so single
    /// reads of those keys share the entries. An id the factory leaves out is absent from the result (and cached as a
    /// null entry when the value type has one).
    /// </summary>
    /// <remarks>
    /// On CacheGen.Redis the cached ones are read in one round trip (L1 first, then one <c>MGET</c>), ids another caller
    /// is filling are joined, and each value is stored through the guard of a single fill. On another
    /// <see cref="HybridCache"/>, each id is read through on its own and the factory gets one id at a time; this is
    /// reported once (a warning on CacheGen's event source).
    /// </remarks>
    public static ValueTask<Dictionary<TId, T>> GetOrCreateManyAsync<TId, T>(this HybridCache cache, IEnumerable<TId> ids, Func<TId, string> key,
        Func<IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory, HybridCacheEntryOptions? options = null,
        Func<TId, IEnumerable<string>>? tags = null, CancellationToken cancellationToken = default)
        where TId : notnull
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        CachedMethod method = options is null ? DefaultOptions : ByOptions.GetValue(options, static o => new CachedMethod(MethodName, "", o));
        return GeneratedCache.GetOrCreateManyAsync(cache, method, ids, (Key: key, Factory: factory, Tags: tags),
            static (s, id) => s.Key(id),
            static (s, missed, token) => s.Factory(missed, token),
            static (s, id) => s.Tags is null ? [] : [.. s.Tags(id)],
            null, cancellationToken);
    }
}

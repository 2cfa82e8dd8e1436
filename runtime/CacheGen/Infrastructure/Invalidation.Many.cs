using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

// Evicting many entries by key ([InvalidatesCache(Method = ...)] on a collection of the target's key argument).
public static partial class Invalidation
{
    /// <summary>
    /// Evicts each entry under <paramref name="keys"/> as <see cref="RemoveAsync(HybridCache, string)"/> does (and again
    /// after the commit of an open transaction), all in one eviction: <see cref="HybridCache.RemoveAsync(IEnumerable{string}, CancellationToken)"/>,
    /// which CacheGen's cache makes one call to Redis and one message to the other instances.
    /// </summary>
    public static ValueTask RemoveManyAsync(HybridCache cache, IEnumerable<string> keys)
    {
        string[] distinct = [.. keys.Distinct(StringComparer.Ordinal)];
        return distinct.Length == 0 ? default : Run(new Eviction(cache, null, null, null, distinct));
    }

    /// <summary>Synchronous <see cref="RemoveManyAsync"/>.</summary>
    public static void RemoveMany(HybridCache cache, IEnumerable<string> keys)
    {
        string[] distinct = [.. keys.Distinct(StringComparer.Ordinal)];
        if (distinct.Length > 0)
            RunSynchronously(new Eviction(cache, null, null, null, distinct));
    }
}

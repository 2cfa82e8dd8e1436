using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

// Evicting many entries by key ([InvalidatesCache(Method = ...)] on a collection of the target's key argument).
public static partial class Invalidation
{
    /// <summary>
    /// Evicts each entry under <paramref name="keys"/> as <see cref="RemoveAsync(HybridCache, string)"/> does (and again
    /// after the commit of an open transaction), all at once rather than one after another.
    /// </summary>
    public static ValueTask RemoveManyAsync(HybridCache cache, IEnumerable<string> keys)
    {
        Task[] evictions = [.. keys.Distinct(StringComparer.Ordinal).Select(key => RemoveAsync(cache, key).AsTask())];
        return evictions.Length == 0 ? default : new ValueTask(Task.WhenAll(evictions));
    }

    /// <summary>Synchronous <see cref="RemoveManyAsync"/>.</summary>
    public static void RemoveMany(HybridCache cache, IEnumerable<string> keys)
    {
        foreach (string key in keys.Distinct(StringComparer.Ordinal))
            Remove(cache, key);
    }
}

namespace CacheGen;

/// <summary>
/// Batch read-through over a <c>[Cached]</c> method's entries: the <c>partial</c> method takes a collection of the
/// cached method's key argument (its other parameters match the cached method's by name and type) and returns
/// <c>IReadOnlyDictionary&lt;TArg, T&gt;</c> (or <c>Dictionary</c>) in a <c>Task</c> or <c>ValueTask</c>. The generated body
/// returns the cached value of every id that has one and calls the core method once, with only the ids that missed;
/// each value it returns is stored as the cached method's own entry (same key, tags, lifetime and conditions).
/// </summary>
/// <remarks>
/// An id the core method leaves out is absent from the result, and is remembered as not found when the cached method
/// caches nulls. The core implementation follows the <c>[Cached]</c> naming rule (<c>GetManyAsync</c> -&gt;
/// <c>GetManyCoreAsync</c>).
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CachedBatchAttribute : Attribute
{
    /// <summary>Reads many entries of <paramref name="method"/> at once.</summary>
    /// <param name="method"><c>nameof</c> the <c>[Cached]</c> method of the same type whose entries this method reads.</param>
    public CachedBatchAttribute(string method) => Method = method;

    /// <summary>The <c>[Cached]</c> method whose entries are read.</summary>
    public string Method { get; }
}

namespace CacheGen;

/// <summary>
/// Write-through: after the method's core implementation returns, stores its result as the entry that
/// <see cref="Method"/> (a <c>[Cached]</c> method of the same type, with the same result type) caches for the same
/// arguments, matched by parameter name and type. The store is guarded like a fill: when another write, eviction or
/// fill of that entry overlapped this one, the entry is evicted instead, so writers that finish in the wrong order
/// never leave the older value cached.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class UpdatesCacheAttribute : Attribute
{
    /// <summary>Stores the method's result as <paramref name="method"/>'s entry.</summary>
    /// <param name="method"><c>nameof</c> the <c>[Cached]</c> method whose entry this method's result replaces.</param>
    public UpdatesCacheAttribute(string method) => Method = method;

    /// <summary>The <c>[Cached]</c> method whose entry is replaced.</summary>
    public string Method { get; }
}

using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// What a <c>[Cached]</c> method decides from the value it returns, handed to the cache with each call (static lambdas
/// made by generated code, which may call the type's private methods): whether it is stored (<see cref="Unless"/>), for
/// how long (<see cref="Lifetime"/>, the method's <c>TtlFrom</c>), and which tags it carries (<see cref="Tags"/>, the
/// method's <c>{result...}</c> tag templates).
/// </summary>
/// <typeparam name="T">The cached value's type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct ResultRules<T>
{
    /// <summary>The rules of a value.</summary>
    /// <param name="unless">A result it returns true for is returned but not stored; null: none.</param>
    /// <param name="lifetime">The entry's lifetime from its value (zero or less: returned, not stored); null: the method's TTL.</param>
    /// <param name="tags">The tags the value carries besides the call's (region-prefixed; null or empty: none); null: none.</param>
    public ResultRules(Func<T, bool>? unless, Func<T, TimeSpan>? lifetime, Func<T, string[]?>? tags = null)
    {
        Unless = unless;
        Lifetime = lifetime;
        Tags = tags;
    }

    /// <summary>A result this returns true for is returned but not stored.</summary>
    public Func<T, bool>? Unless { get; }

    /// <summary>The entry's lifetime from its value; zero or less: returned, not stored.</summary>
    public Func<T, TimeSpan>? Lifetime { get; }

    /// <summary>
    /// The tags the value carries besides the ones the call's arguments give (region-prefixed, as generated code builds
    /// them; null or empty for none, as for a null result). See <see cref="CachedMethod.ValueTagFences"/>.
    /// </summary>
    public Func<T, string[]?>? Tags { get; }
}

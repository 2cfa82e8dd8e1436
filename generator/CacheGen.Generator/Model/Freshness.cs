namespace CacheGen.Generator.Model;

/// <summary>
/// How a <c>[Cached]</c> method decides each stored value's lifetime: <see cref="JitterPercent"/>, the most by which it
/// is shortened at random, and <see cref="TtlFrom"/>, the name of its lifetime function (a static method of the same
/// type, <c>TimeSpan M(T)</c>), or null for the method's TTL.
/// </summary>
internal sealed record Freshness(int JitterPercent, string? TtlFrom)
{
    public static readonly Freshness None = new(0, null);

    /// <summary>Whether the cache needs the method's rules of a value (<c>ResultRules&lt;T&gt;</c>) rather than its Unless alone.</summary>
    public bool DecidesFromValue => TtlFrom is not null;
}

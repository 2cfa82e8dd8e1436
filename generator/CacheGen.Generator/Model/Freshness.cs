namespace CacheGen.Generator.Model;

/// <summary>
/// How a <c>[Cached]</c> method decides each stored value's lifetime: <see cref="JitterPercent"/>, the most by which it
/// is shortened at random, and <see cref="TtlFrom"/>, the name of its lifetime function (a static method of the same
/// type, <c>TimeSpan M(T)</c>), or null for the method's TTL; and <see cref="ResultMayBeNull"/>, whether its value can be
/// null (its tags from the result are then none).
/// </summary>
internal sealed record Freshness(int JitterPercent, string? TtlFrom, bool ResultMayBeNull = false)
{
    /// <summary>The share of an entry's lifetime after which a hit starts its refresh in the background; 0: off.</summary>
    public int RefreshAheadPercent { get; init; }

    public static readonly Freshness None = new(0, null);

    /// <summary>Whether the cache needs the method's rules of a value (<c>ResultRules&lt;T&gt;</c>) rather than its Unless alone.</summary>
    public bool DecidesFromValue => TtlFrom is not null;

    /// <summary>
    /// The fence of a tag template taken from the result in <paramref name="region"/> (see CachedMethod.ValueTagFences):
    /// the same text for the cached method that declares it and for every eviction of a tag of that template.
    /// </summary>
    public static string FenceOf(string region, string signature) =>
        CacheGen.Infrastructure.KeyFormat.RegionPrefix(region) + "#value-tag:" + signature.Replace("\u0001\u0001", "\u0001").Replace('\u0001', '~');
}

namespace CacheGen;

/// <summary>
/// After the method's core implementation completes without throwing, evicts every entry of each region,
/// or, with <see cref="Key"/>, just that entry of the single region.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class InvalidatesCacheAttribute : Attribute
{
    /// <summary>Evicts <paramref name="regions"/> after the method completes.</summary>
    public InvalidatesCacheAttribute(params string[] regions) => Regions = regions;

    /// <summary>The regions (cache tags) to evict.</summary>
    public string[] Regions { get; }

    /// <summary>
    /// Key template of the single entry to evict, such as <c>"post:{post.Id}"</c>; it must match the
    /// <see cref="CachedAttribute.Key"/> of the entry. Evaluated after the core method returns.
    /// </summary>
    public string? Key { get; set; }
}

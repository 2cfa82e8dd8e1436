namespace CacheGen;

/// <summary>
/// After the method's core implementation completes without throwing, evicts every entry of each region; with
/// <see cref="Key"/>, just that entry of the single region; with <see cref="Tags"/>, every entry that carries one of
/// the tags; with <see cref="Method"/>, the one entry that method caches for the same arguments. A method may carry
/// several of these attributes: all of them apply.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class InvalidatesCacheAttribute : Attribute
{
    /// <summary>Evicts <paramref name="regions"/> (none when the attribute names <see cref="Tags"/> or <see cref="Method"/> only).</summary>
    public InvalidatesCacheAttribute(params string[] regions) => Regions = regions;

    /// <summary>The regions (cache tags) to evict.</summary>
    public string[] Regions { get; }

    /// <summary>
    /// Key template of the single entry to evict, such as <c>"post:{post.Id}"</c>; it must match the
    /// <see cref="CachedAttribute.Key"/> of the entry. Evaluated after the core method returns.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>
    /// Tag templates such as <c>"post:{post.Id}"</c>: evicts, in every region, the entries whose
    /// <see cref="CachedAttribute.Tags"/> has the same template (same text, placeholders of the same types) and value.
    /// </summary>
    public string[]? Tags { get; set; }

    /// <summary>
    /// <c>nameof</c> a <c>[Cached]</c> method of the same type: evicts the entry it caches for this method's arguments,
    /// matched by parameter name and type, with the key built by that method's own key code.
    /// </summary>
    public string? Method { get; set; }
}

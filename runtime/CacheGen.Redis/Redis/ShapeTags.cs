using System.Collections.Concurrent;

namespace CacheGen.Redis;

/// <summary>
/// The Redis-only tag of an entry whose value type has a shape fingerprint (<c>CachedMethod.Shape</c>). It is read,
/// guarded and stored like a generation, and tells <see cref="RedisKeyLayout.EntryAndGenerations"/> two things: the
/// entry lives under its key and its shape (two builds of different shapes keep one entry each, side by side), and it
/// carries its key's generation, which every eviction of the key moves on, so a key eviction reaches every shape.
/// </summary>
/// <remarks>
/// Told apart from other tags by reference, like <see cref="RedisKeyLayout.ClearTag"/>: one instance per fingerprint,
/// made here; a tag with the same text that other code passes is an ordinary tag.
/// </remarks>
internal static class ShapeTags
{
    private static readonly ConcurrentDictionary<string, string> TagOfShape = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> ShapeOfTag = new(ReferenceEqualityComparer.Instance);

    /// <summary>The one tag instance of <paramref name="shape"/>.</summary>
    public static string For(string shape) =>
        TagOfShape.TryGetValue(shape, out string? tag) ? tag : TagOfShape.GetOrAdd(shape, static s =>
        {
            string made = "\0shape:" + s;
            ShapeOfTag[made] = s;
            return made;
        });

    /// <summary>Whether <paramref name="tag"/> is the instance <see cref="For"/> made, and for which shape.</summary>
    public static bool TryGetShape(string tag, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? shape)
    {
        // The text check first: an ordinary tag costs one comparison.
        if (tag.Length > 0 && tag[0] == '\0')
            return ShapeOfTag.TryGetValue(tag, out shape);
        shape = null;
        return false;
    }
}

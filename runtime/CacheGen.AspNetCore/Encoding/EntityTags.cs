using Microsoft.Extensions.Primitives;

namespace CacheGen.AspNetCore.Encoding;

/// <summary>Compares entity tags with <c>If-None-Match</c>.</summary>
internal static class EntityTags
{
    /// <summary>If-None-Match uses the weak comparison: <c>W/"x"</c> matches <c>"x"</c>; <c>*</c> matches anything.</summary>
    public static bool Matches(StringValues ifNoneMatch, string entityTag)
    {
        foreach (string? header in ifNoneMatch)
        {
            ReadOnlySpan<char> rest = header;
            while (!rest.IsEmpty)
            {
                int comma = rest.IndexOf(',');
                ReadOnlySpan<char> tag = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? [] : rest[(comma + 1)..];
                if (tag.StartsWith("W/", StringComparison.Ordinal))
                    tag = tag[2..];
                if (tag is "*" || tag.SequenceEqual(entityTag))
                    return true;
            }
        }
        return false;
    }
}

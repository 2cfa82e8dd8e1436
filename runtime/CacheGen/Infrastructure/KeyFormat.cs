using System;
using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// The one definition of a cache key's shape, compiled into both sides that write keys: this package (the
/// <see cref="CacheKeyBuilder"/> generated code calls at run time) and the generator (which writes the constant parts
/// and checks regions at compile time), so the two cannot drift apart.
/// <list type="bullet">
/// <item>A key starts with its region as a Redis hash tag, <c>{posts}:</c>, so every entry of a region and the region's
/// generation share one cluster slot.</item>
/// <item>A default key is a constant prefix, then <see cref="Separator"/> before every argument.</item>
/// <item>Argument text is escaped (<see cref="Escape"/> before any <see cref="Escape"/> or <see cref="Separator"/>),
/// and <c>null</c> is <see cref="Null"/>, which no escaped text can produce: different argument lists never make the
/// same key.</item>
/// </list>
/// Public only for CacheGen's other packages, which read the region back from a key.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class KeyFormat
{
    /// <summary>Written before each argument of a default key.</summary>
    public const char Separator = '|';

    /// <summary>Written before an <see cref="Escape"/> or a <see cref="Separator"/> inside argument text.</summary>
    public const char Escape = '\\';

    /// <summary>A <c>null</c> argument: an escape followed by a character that is never escaped.</summary>
    public const string Null = "\\0";

    /// <summary>The start of every key of <paramref name="region"/>: the region as a Redis hash tag.</summary>
    public static string RegionPrefix(string region) => "{" + region + "}:";

    /// <summary>A region is non-blank text without braces (a brace would end its hash tag early).</summary>
    public static bool IsValidRegion(string? region) =>
        !string.IsNullOrWhiteSpace(region) && region!.IndexOf('{') < 0 && region.IndexOf('}') < 0;

    /// <summary>
    /// Reads the region back from a key of the form <c>{region}...</c> (the shape <see cref="RegionPrefix"/> writes):
    /// false for a key that does not start with a non-empty <c>{...}</c>.
    /// </summary>
    public static bool TryGetRegion(ReadOnlySpan<char> key, out ReadOnlySpan<char> region)
    {
        int close = key.Length > 2 && key[0] == '{' ? key.Slice(1).IndexOf('}') + 1 : 0;
        region = close > 1 ? key.Slice(1, close - 1) : default;
        return close > 1;
    }
}

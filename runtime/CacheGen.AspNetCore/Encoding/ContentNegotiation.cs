using Microsoft.Extensions.Primitives;

namespace CacheGen.AspNetCore.Encoding;

/// <summary>Picks br, else gzip, else identity from <c>Accept-Encoding</c>, honouring <c>q=0</c> (and <c>*</c>).</summary>
internal static class ContentNegotiation
{
    public static ContentCoding Choose(StringValues acceptEncoding)
    {
        if (StringValues.IsNullOrEmpty(acceptEncoding))
            return ContentCoding.Identity;
        bool? brotli = null, gzip = null, any = null;
        foreach (string? header in acceptEncoding)
        {
            ReadOnlySpan<char> rest = header;
            while (!rest.IsEmpty)
            {
                int comma = rest.IndexOf(',');
                ReadOnlySpan<char> item = comma < 0 ? rest : rest[..comma];
                rest = comma < 0 ? [] : rest[(comma + 1)..];
                int semicolon = item.IndexOf(';');
                ReadOnlySpan<char> coding = (semicolon < 0 ? item : item[..semicolon]).Trim();
                bool accepted = semicolon < 0 || !IsZeroQuality(item[(semicolon + 1)..]);
                if (coding.Equals("br", StringComparison.OrdinalIgnoreCase))
                    brotli = accepted;
                else if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
                    gzip = accepted;
                else if (coding is "*")
                    any = accepted;
            }
        }
        if (brotli ?? any ?? false)
            return ContentCoding.Brotli;
        if (gzip ?? any ?? false)
            return ContentCoding.Gzip;
        return ContentCoding.Identity;
    }

    // "q=0", "q=0.0", "q=0.000" refuse the coding; any other weight accepts it.
    private static bool IsZeroQuality(ReadOnlySpan<char> parameters)
    {
        ReadOnlySpan<char> p = parameters.Trim();
        if (p.Length < 3 || (p[0] is not ('q' or 'Q')) || p[1] != '=')
            return false;
        p = p[2..].Trim();
        return p.TrimEnd('0') is "" or "0.";
    }
}

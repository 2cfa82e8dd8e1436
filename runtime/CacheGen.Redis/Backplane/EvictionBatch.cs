using System.Globalization;
using System.Text;

namespace CacheGen.Redis;

/// <summary>
/// The name part of a backplane message that evicts many keys or many tags at once: the kind (<c>k</c> or <c>t</c>),
/// then each name as <c>{length}:{name}</c>, so a name may hold any character. It travels under the kind <c>a</c>
/// (everything), whose name was always empty: an instance of a build from before batches reads it as "evict
/// everything", which drops more than it has to but never keeps a copy that should have gone.
/// </summary>
internal static class EvictionBatch
{
    public static string Write(char kind, IReadOnlyList<string> names)
    {
        var text = new StringBuilder(1 + names.Sum(static n => n.Length + 4));
        text.Append(kind);
        foreach (string name in names)
            text.Append(name.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(name);
        return text.ToString();
    }

    /// <summary>Reads what <see cref="Write"/> wrote; false when it is not a well-formed batch.</summary>
    public static bool TryRead(string text, out char kind, out List<string> names)
    {
        names = [];
        kind = text.Length > 0 ? text[0] : '\0';
        if (kind is not ('k' or 't'))
            return false;
        int at = 1;
        while (at < text.Length)
        {
            int colon = text.IndexOf(':', at);
            if (colon < 0 || !int.TryParse(text.AsSpan(at, colon - at), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length > text.Length - colon - 1)
                return false;
            names.Add(text.Substring(colon + 1, length));
            at = colon + 1 + length;
        }
        return names.Count > 0;
    }
}

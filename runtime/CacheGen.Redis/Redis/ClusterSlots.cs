using System.Globalization;

namespace CacheGen.Redis;

/// <summary>
/// Redis Cluster's key-to-slot function (CRC16/XMODEM of the hash tag, modulo 16384), and for each slot a short hash
/// tag that falls in it: how the clear epoch of every slot gets a key beside the entries of that slot.
/// </summary>
internal static class ClusterSlots
{
    public const int Count = 16384;

    private static readonly Lazy<string[]> Tags = new(BuildTags);

    /// <summary>A hash tag (decimal digits) whose slot is <paramref name="slot"/>.</summary>
    public static string TagOf(int slot) => Tags.Value[slot];

    /// <summary>The slot of a hash tag's text.</summary>
    public static int SlotOf(ReadOnlySpan<byte> hashTag)
    {
        int crc = 0;
        foreach (byte b in hashTag)
        {
            crc ^= b << 8;
            for (int i = 0; i < 8; i++)
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            crc &= 0xFFFF;
        }
        return crc & (Count - 1);
    }

    private static string[] BuildTags()
    {
        var tags = new string[Count];
        int found = 0;
        Span<byte> digits = stackalloc byte[16];
        for (int n = 0; found < Count; n++)
        {
            n.TryFormat(digits, out int length, default, CultureInfo.InvariantCulture);
            int slot = SlotOf(digits[..length]);
            if (tags[slot] is null)
            {
                tags[slot] = n.ToString(CultureInfo.InvariantCulture);
                found++;
            }
        }
        return tags;
    }
}

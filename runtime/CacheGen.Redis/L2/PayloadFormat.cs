namespace CacheGen.Redis;

/// <summary>
/// The envelope's payload format byte: the low four bits name the codec that compressed the payload, the high four
/// the serializer that wrote it. A reader that finds another serializer than the one it would use takes the entry for
/// a miss, never hands JSON to a binary serializer (or the reverse).
/// </summary>
internal static class PayloadFormat
{
    /// <summary>Uncompressed, written by System.Text.Json (and every version 4 entry).</summary>
    public const byte Json = 0x00;

    public const byte CodecMask = 0x0F;

    /// <summary>Compressed as one LZ4 block, after the 4-byte little-endian length of the uncompressed payload.</summary>
    public const byte Lz4 = 0x01;

    public const byte SerializerMask = 0xF0;

    /// <summary>Written by an <c>IHybridCacheSerializer&lt;T&gt;</c> from DI (which one: the schema hash says).</summary>
    public const byte ServiceSerializer = 0x10;

    public static bool IsCompressed(byte format) => (format & CodecMask) != 0;
}

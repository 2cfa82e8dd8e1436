using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace CacheGen.Redis;

/// <summary>
/// The binary format of a Redis entry.
/// <list type="bullet">
/// <item>value: byte 0 = 5 (the format version); bytes 1..8 = a random stamp unique to the write; byte 9 = tag count
/// n; n × int64 little-endian tag generations (tag order); one <see cref="PayloadFormat"/> byte (which serializer wrote
/// the payload, and which codec compressed it); the int64 little-endian time the entry logically expires (Unix
/// milliseconds, 0 = not recorded); the 8-byte schema hash of the value's type (see <see cref="PayloadSerializer"/>);
/// the 8-byte XxHash3 of the cache key it was written for; the 8-byte XxHash3 of the uncompressed payload; then the
/// payload: the UTF-8 JSON of the value (none at all for a null <see cref="JsonPayload"/>) or the bytes of a serializer
/// from DI, compressed when the format says so (see <see cref="PayloadCompression"/>).</item>
/// <item>value, version 4 (written before the format byte existed): the same without the format byte; read as
/// uncompressed JSON.</item>
/// <item>tombstone: byte 0 = 2; bytes 1..8 = a random stamp.</item>
/// </list>
/// The stamp lets the write script tell "the same thing I read" from "something written since" without comparing
/// whole values (Lua's <c>string.sub(v, 2, 9)</c> is <see cref="StampOf"/>). The schema hash turns a deploy that
/// changed the type into a miss instead of a failed (or, worse, a silently partial) deserialization; the key hash
/// catches a value copied or renamed to another key (a cache must never answer one key with another's value); the checksum
/// catches truncated, extended or damaged bytes, and lets a JSON payload be served without parsing it. The expiry lets
/// a reader keep an in-process copy no longer than the entry itself lives, and take an entry past it for a miss even
/// while Redis still holds it; it is the writer's clock, so instances should keep their clocks in sync.
/// An older format version is a miss and gets replaced by the next fill; the version just before this one is not
/// reported as corrupt, since every deploy of a new format meets it. A newer format version (up to
/// <see cref="FirstForeignByte"/>) is a quiet miss that is never replaced: a runtime rolled back, or not yet rolled
/// forward, must not undo the entries of the newer one.
/// </summary>
internal static class Envelope
{
    public const byte ValueVersion = 5;
    public const byte FormatlessValueVersion = 4;
    public const byte OutdatedValueVersion = 3;
    public const byte TombstoneVersion = 2;

    /// <summary>
    /// Format versions run from 1 up to below this byte. A first byte above <see cref="ValueVersion"/> and below it is a
    /// newer CacheGen format; from here on it is foreign bytes (printable text starts at 0x20), which a fill may replace.
    /// </summary>
    public const byte FirstForeignByte = 0x20;
    public const int StampLength = 8;
    public const int MaximumTags = byte.MaxValue;
    private const int TagCountOffset = 1 + StampLength;
    private const int GenerationsOffset = TagCountOffset + 1;
    private const int TrailerLength = 4 * sizeof(ulong); // expiry, schema hash, key hash, checksum
    private const int OutdatedTrailerLength = 3 * sizeof(ulong); // version 3: schema hash, key hash, checksum

    /// <summary>Whether a first byte is the format version of a newer CacheGen runtime: what this one reads as a miss and never overwrites.</summary>
    public static bool IsNewerVersion(byte first) => first > ValueVersion && first < FirstForeignByte;

    /// <summary>The header size of a value with <paramref name="tagCount"/> tags; the payload starts there.</summary>
    public static int HeaderLength(int tagCount) => GenerationsOffset + tagCount * sizeof(long) + 1 + TrailerLength;

    private static int FormatlessHeaderLength(int tagCount) => GenerationsOffset + tagCount * sizeof(long) + TrailerLength;

    /// <summary>How a parsed value's payload was written (a version 4 value: uncompressed JSON).</summary>
    public static byte GetFormat(ReadOnlySpan<byte> value, int jsonOffset) =>
        value[0] == ValueVersion ? value[jsonOffset - TrailerLength - 1] : PayloadFormat.Json;

    /// <summary>Records how the payload is written (the byte just before the trailer, so the trailer stays where readers look).</summary>
    public static void SetFormat(Span<byte> envelope, int jsonOffset, byte format) => envelope[jsonOffset - TrailerLength - 1] = format;

    /// <summary>Writes a value header with a fresh stamp, zero generations (see <see cref="SetGenerations"/>), the JSON format (see <see cref="SetFormat"/>) and no expiry (see <see cref="SetExpiry"/>).</summary>
    public static void WriteValueHeader(Span<byte> header, int tagCount)
    {
        header[0] = ValueVersion;
        Random.Shared.NextBytes(header.Slice(1, StampLength));
        header[TagCountOffset] = checked((byte)tagCount);
        header[GenerationsOffset..HeaderLength(tagCount)].Clear();
    }

    /// <summary>Records when the entry logically expires, in Unix milliseconds (0: not recorded).</summary>
    public static void SetExpiry(Span<byte> envelope, int jsonOffset, long expiresAtUnixMilliseconds) =>
        BinaryPrimitives.WriteInt64LittleEndian(envelope.Slice(jsonOffset - TrailerLength), expiresAtUnixMilliseconds);

    /// <summary>When a parsed value logically expires, in Unix milliseconds; 0 when not recorded.</summary>
    public static long GetExpiry(ReadOnlySpan<byte> value, int jsonOffset) =>
        BinaryPrimitives.ReadInt64LittleEndian(value.Slice(jsonOffset - TrailerLength));

    /// <summary>Seals a value whose JSON is complete: records the type's schema hash, the key's hash and the JSON's checksum.</summary>
    public static void Seal(Span<byte> envelope, int jsonOffset, ulong schema, string key)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(envelope.Slice(jsonOffset - 3 * sizeof(ulong)), schema);
        BinaryPrimitives.WriteUInt64LittleEndian(envelope.Slice(jsonOffset - 2 * sizeof(ulong)), KeyHash(key));
        BinaryPrimitives.WriteUInt64LittleEndian(envelope.Slice(jsonOffset - sizeof(ulong)), XxHash3.HashToUInt64(envelope[jsonOffset..]));
    }

    private static ulong KeyHash(string key) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()));

    /// <summary>
    /// Checks a parsed value against the schema the reader expects and against its checksum; says why it does not
    /// match. Hashing is many times faster than parsing the JSON, so a damaged payload never reaches the deserializer.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> value, int jsonOffset, ulong schema, string key, out string? kind, out string? problem)
    {
        (kind, problem) = (null, null);
        if (GetSchema(value, jsonOffset) != schema)
            (kind, problem) = (CorruptKinds.Schema, "written for another schema of the type (a changed type, or another type under the same key)");
        else if (!IsForKey(value, jsonOffset, key))
            (kind, problem) = (CorruptKinds.Key, "written for another key");
        else if (!ChecksumMatches(value, jsonOffset))
            (kind, problem) = (CorruptKinds.Checksum, "checksum mismatch (truncated, extended or damaged bytes)");
        return kind is null;
    }

    /// <summary>The schema hash of the type a parsed value was written as (the inspector shows it; readers compare it).</summary>
    public static ulong GetSchema(ReadOnlySpan<byte> value, int jsonOffset) =>
        BinaryPrimitives.ReadUInt64LittleEndian(value.Slice(jsonOffset - 3 * sizeof(ulong)));

    /// <summary>Whether a parsed value was written for <paramref name="key"/>.</summary>
    public static bool IsForKey(ReadOnlySpan<byte> value, int jsonOffset, string key) =>
        BinaryPrimitives.ReadUInt64LittleEndian(value.Slice(jsonOffset - 2 * sizeof(ulong))) == KeyHash(key);

    /// <summary>Whether a parsed value's JSON is the JSON it was written with.</summary>
    public static bool ChecksumMatches(ReadOnlySpan<byte> value, int jsonOffset) =>
        BinaryPrimitives.ReadUInt64LittleEndian(value.Slice(jsonOffset - sizeof(ulong))) == XxHash3.HashToUInt64(value[jsonOffset..]);

    /// <summary>Stores the tag generations a value was computed under.</summary>
    public static void SetGenerations(Span<byte> envelope, ReadOnlySpan<long> generations)
    {
        for (int i = 0; i < generations.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(envelope.Slice(GenerationsOffset + i * sizeof(long)), generations[i]);
    }

    /// <summary>A tombstone with a fresh stamp.</summary>
    public static byte[] CreateTombstone()
    {
        var tombstone = new byte[1 + StampLength];
        tombstone[0] = TombstoneVersion;
        Random.Shared.NextBytes(tombstone.AsSpan(1));
        return tombstone;
    }

    /// <summary>
    /// Bytes 1..8 (fewer when the value is shorter): what the write script compares with <c>GETRANGE key 1 8</c>.
    /// Works on any bytes, so a corrupt value is guarded as exactly as one of ours.
    /// </summary>
    public static byte[] StampOf(ReadOnlySpan<byte> value) =>
        value.Length <= 1 ? [] : value.Slice(1, Math.Min(StampLength, value.Length - 1)).ToArray();

    /// <summary>
    /// Reads the header of <paramref name="value"/>. For a value, <paramref name="tagCount"/> and
    /// <paramref name="jsonOffset"/> say where the generations end and the JSON starts; <paramref name="problem"/> says
    /// why bytes are <see cref="EnvelopeKind.Invalid"/>.
    /// </summary>
    public static EnvelopeKind Parse(ReadOnlySpan<byte> value, out int tagCount, out int jsonOffset, out string? problem)
    {
        tagCount = 0;
        jsonOffset = 0;
        problem = null;
        if (value.IsEmpty)
        {
            problem = "empty value";
            return EnvelopeKind.Invalid;
        }
        switch (value[0])
        {
            case TombstoneVersion when value.Length == 1 + StampLength:
                return EnvelopeKind.Tombstone;
            case ValueVersion or FormatlessValueVersion when value.Length > TagCountOffset:
                tagCount = value[TagCountOffset];
                jsonOffset = value[0] == ValueVersion ? HeaderLength(tagCount) : FormatlessHeaderLength(tagCount);
                // No JSON at all is a null JsonPayload; any other type reads it as bad JSON.
                if (value.Length < jsonOffset)
                {
                    problem = "truncated envelope";
                    return EnvelopeKind.Invalid;
                }
                return EnvelopeKind.Value;
            case OutdatedValueVersion when value.Length > TagCountOffset
                && value.Length > GenerationsOffset + value[TagCountOffset] * sizeof(long) + OutdatedTrailerLength:
                return EnvelopeKind.Outdated;
            case TombstoneVersion or ValueVersion or FormatlessValueVersion or OutdatedValueVersion:
                problem = "truncated envelope";
                return EnvelopeKind.Invalid;
            case byte first when IsNewerVersion(first):
                return EnvelopeKind.Newer;
            default:
                problem = "unknown format version " + value[0];
                return EnvelopeKind.Invalid;
        }
    }

    /// <summary>The stored generation of tag <paramref name="index"/> of a parsed value.</summary>
    public static long GetGeneration(ReadOnlySpan<byte> value, int index) =>
        BinaryPrimitives.ReadInt64LittleEndian(value.Slice(GenerationsOffset + index * sizeof(long)));
}

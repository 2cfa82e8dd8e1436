using System.Buffers.Binary;
using K4os.Compression.LZ4;

namespace CacheGen.Redis;

/// <summary>
/// The form an envelope takes in Redis: a payload larger than <see cref="CacheGenOptions.CompressAboveBytes"/> is
/// stored as one LZ4 block (see <see cref="PayloadFormat.Lz4"/>); everything else as it is. Only the payload changes:
/// the header (the stamp the write guard compares, generations, expiry, schema, key hash, and the checksum of the
/// uncompressed payload) stays, so a value read back decompressed is the very envelope that was written, and L1 and
/// <see cref="JsonPayload"/> hits keep working on uncompressed bytes.
/// </summary>
internal sealed class PayloadCompression(int compressAboveBytes, int maximumPayloadBytes)
{
    private const int LengthPrefix = sizeof(int);

    /// <summary>
    /// The bytes to store for <paramref name="envelope"/> (a value this instance serialized): compressed when its
    /// payload is larger than the threshold and compression makes it smaller; otherwise the envelope itself.
    /// </summary>
    public byte[] ToStored(byte[] envelope)
    {
        if (Envelope.Parse(envelope, out _, out int payloadOffset, out _) != EnvelopeKind.Value)
            return envelope;
        byte format = Envelope.GetFormat(envelope, payloadOffset);
        int length = envelope.Length - payloadOffset;
        if (length <= compressAboveBytes || PayloadFormat.IsCompressed(format) || envelope[0] != Envelope.ValueVersion)
            return envelope;
        byte[] stored = new byte[payloadOffset + LengthPrefix + LZ4Codec.MaximumOutputSize(length)];
        int compressed = LZ4Codec.Encode(envelope.AsSpan(payloadOffset), stored.AsSpan(payloadOffset + LengthPrefix));
        // Incompressible bytes (already compressed, random) are stored as they are.
        if (compressed <= 0 || LengthPrefix + compressed >= length)
            return envelope;
        envelope.AsSpan(0, payloadOffset).CopyTo(stored);
        Envelope.SetFormat(stored, payloadOffset, (byte)(format | PayloadFormat.Lz4));
        BinaryPrimitives.WriteInt32LittleEndian(stored.AsSpan(payloadOffset), length);
        return stored[..(payloadOffset + LengthPrefix + compressed)];
    }

    /// <summary>
    /// The envelope <paramref name="stored"/> stands for: decompressed when it is a compressed value, else the bytes
    /// themselves. Bytes that do not decompress (damaged, or larger than MaximumPayloadBytes once decompressed) come
    /// back as they are, still marked compressed, and the codec reports them as corrupt (<see cref="CorruptKinds.Compression"/>).
    /// </summary>
    public byte[] ToReadable(byte[] stored)
    {
        if (Envelope.Parse(stored, out _, out int payloadOffset, out _) != EnvelopeKind.Value)
            return stored;
        byte format = Envelope.GetFormat(stored, payloadOffset);
        if ((format & PayloadFormat.CodecMask) != PayloadFormat.Lz4 || stored.Length - payloadOffset < LengthPrefix)
            return stored;
        int length = BinaryPrimitives.ReadInt32LittleEndian(stored.AsSpan(payloadOffset));
        if (length <= 0 || length > maximumPayloadBytes)
            return stored;
        byte[] readable = new byte[payloadOffset + length];
        int decoded = LZ4Codec.Decode(stored.AsSpan(payloadOffset + LengthPrefix), readable.AsSpan(payloadOffset));
        if (decoded != length)
            return stored;
        stored.AsSpan(0, payloadOffset).CopyTo(readable);
        Envelope.SetFormat(readable, payloadOffset, (byte)(format & ~PayloadFormat.CodecMask));
        return readable;
    }

    /// <summary>The size of the payload before compression, or null when <paramref name="stored"/> is not compressed or does not say.</summary>
    public static int? UncompressedLength(ReadOnlySpan<byte> stored, int payloadOffset) =>
        PayloadFormat.IsCompressed(Envelope.GetFormat(stored, payloadOffset)) && stored.Length - payloadOffset >= LengthPrefix
            ? BinaryPrimitives.ReadInt32LittleEndian(stored[payloadOffset..])
            : null;
}

using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace CacheGen.Redis;

/// <summary>
/// Values to bytes and back: the envelope (<see cref="Envelope"/>) around System.Text.Json's payload
/// (<see cref="PayloadSerializer"/>), the payload size limit, and the one place that decides whether bytes read from
/// Redis are a hit, stale, or corrupt (<see cref="CorruptKinds"/>).
/// </summary>
internal sealed class EntryCodec(PayloadSerializer serializer, int maximumPayloadBytes, TimeProvider time, ILogger logger, CacheMetrics metrics)
{
    public PayloadSerializer Serializer => serializer;

    /// <summary>The current time as the envelope records it (Unix milliseconds).</summary>
    public long UtcNowMilliseconds => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>When an entry written now for <paramref name="lifetime"/> logically expires (Unix milliseconds; 0 = not recorded).</summary>
    public long ExpiryFor(TimeSpan lifetime)
    {
        if (lifetime <= TimeSpan.Zero)
            return 0;
        long now = UtcNowMilliseconds;
        double milliseconds = Math.Ceiling(lifetime.TotalMilliseconds);
        return milliseconds >= long.MaxValue - now ? 0 : now + (long)milliseconds;
    }

    /// <summary>
    /// The envelope for <paramref name="value"/>, recording that the entry expires at <paramref name="expiresAt"/> (Unix
    /// milliseconds), or null (logged, counted) when it is too large or cannot be serialized: then it is not cached.
    /// </summary>
    public byte[]? TrySerialize<T>(string key, T value, int tagCount, long expiresAt, out int jsonOffset)
    {
        try
        {
            byte[] envelope = serializer.CreateEnvelope(value, key, tagCount, out jsonOffset, expiresAt);
            if (envelope.Length - jsonOffset <= maximumPayloadBytes)
                return envelope;
            metrics.OversizedValue();
            Log.PayloadTooLarge(logger, key, envelope.Length - jsonOffset, maximumPayloadBytes);
            jsonOffset = 0;
            return null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            Log.SerializeFailed(logger, key, typeof(T).FullName ?? typeof(T).Name, e);
            jsonOffset = 0;
            return null;
        }
    }

    /// <summary>
    /// A Redis value is a hit iff it is a value envelope written under the tags' current generations, not past its
    /// recorded expiry, and reads as a <typeparamref name="T"/>.
    /// </summary>
    public bool TryRead<T>(string key, string[] tags, RedisRead read, out T value, out int jsonOffset)
    {
        value = default!;
        jsonOffset = 0;
        if (!read.Succeeded || read.Value is not { } bytes)
            return false;
        switch (Envelope.Parse(bytes, out int tagCount, out jsonOffset, out string? problem))
        {
            case EnvelopeKind.Tombstone or EnvelopeKind.Outdated:
                return false;
            case EnvelopeKind.Invalid:
                return Corrupt(key, CorruptKinds.Format, problem!);
        }
        // Written under other tags, or before an eviction of one of them: stale, not corrupt.
        if (tagCount != tags.Length)
            return false;
        for (int i = 0; i < tagCount; i++)
        {
            if (Envelope.GetGeneration(bytes, i) != read.Generations[i])
                return false;
        }
        // Past its logical expiry (Redis expires it a moment later): a miss, not corrupt.
        long expiresAt = Envelope.GetExpiry(bytes, jsonOffset);
        if (expiresAt != 0 && expiresAt <= UtcNowMilliseconds)
            return false;
        // Checked before any parsing: an oversized or damaged payload never reaches the deserializer.
        if (bytes.Length - jsonOffset > maximumPayloadBytes)
            return Corrupt(key, CorruptKinds.TooLarge, $"{bytes.Length - jsonOffset} bytes, more than MaximumPayloadBytes");
        if (!Envelope.Verify(bytes, jsonOffset, serializer.SchemaOf<T>(), key, out string? kind, out problem))
            return Corrupt(key, kind!, problem!);
        try
        {
            value = serializer.Deserialize<T>(bytes, jsonOffset);
            return true;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            value = default!;
            return Corrupt(key, CorruptKinds.Json, "JSON that is not a " + typeof(T).Name, e);
        }
    }

    /// <summary>Reports bytes that are not a readable value; the fill that follows replaces them (the guard compares any bytes' stamp).</summary>
    private bool Corrupt(string key, string kind, string problem, Exception? exception = null)
    {
        metrics.CorruptEntry(kind);
        Log.CorruptEntry(logger, key, problem, exception);
        return false;
    }
}

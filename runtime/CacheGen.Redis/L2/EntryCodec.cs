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
    /// milliseconds), or null when it is not cached: too large (logged per value), not serializable (logged per value),
    /// or of a type whose values do not read back exactly (logged once per type; see <see cref="RoundTripState"/>).
    /// </summary>
    public byte[]? TrySerialize<T>(string key, T value, int tagCount, long expiresAt, out int jsonOffset)
    {
        jsonOffset = 0;
        RoundTripState roundTrip = serializer.RoundTripOf<T>();
        if (roundTrip.Status == RoundTripState.Uncacheable)
        {
            metrics.UncacheableValue(roundTrip.TypeName);
            return null;
        }
        byte[] envelope;
        try
        {
            envelope = serializer.CreateEnvelope(value, key, tagCount, out jsonOffset, expiresAt);
        }
        catch (NotSupportedException e)
        {
            // A type its serializer does not support (for System.Text.Json, a dictionary keyed by tuples, say): the same for every value.
            Uncacheable(roundTrip, serializer.FormatOf<T>() == PayloadFormat.Json ? "System.Text.Json cannot write it" : "its serializer cannot write it", e);
            jsonOffset = 0;
            return null;
        }
        catch (Exception e)
        {
            // This value only (a cycle, a NaN, a getter that threw): returned, not cached, never thrown at the caller.
            Log.SerializeFailed(logger, key, roundTrip.TypeName, e);
            jsonOffset = 0;
            return null;
        }
        if (envelope.Length - jsonOffset > maximumPayloadBytes)
        {
            metrics.OversizedValue();
            Log.PayloadTooLarge(logger, key, envelope.Length - jsonOffset, maximumPayloadBytes);
            jsonOffset = 0;
            return null;
        }
        if (roundTrip.Status == RoundTripState.Probing)
        {
            Exception? exception = null;
            string? problem = roundTrip.StructuralProblem ?? serializer.CheckRoundTrip(value, envelope, jsonOffset, out exception);
            if (problem is not null)
            {
                Uncacheable(roundTrip, problem, exception);
                jsonOffset = 0;
                return null;
            }
            if (serializer.FormatOf<T>() == PayloadFormat.Json)
                roundTrip.Passed(envelope.AsSpan(jsonOffset));
            else
                roundTrip.Confirm();
        }
        return envelope;
    }

    /// <summary>Whether values of <typeparamref name="T"/> may be cached: false once the type was found not to read back exactly.</summary>
    public bool IsCacheable<T>() => serializer.RoundTripOf<T>().Status != RoundTripState.Uncacheable;

    /// <summary>Makes the type uncacheable: one warning per type, one count per value not cached.</summary>
    private void Uncacheable(RoundTripState roundTrip, string problem, Exception? exception, bool countValue = true)
    {
        if (countValue)
            metrics.UncacheableValue(roundTrip.TypeName);
        if (roundTrip.MarkUncacheable())
            Log.UncacheableType(logger, roundTrip.TypeName, problem, exception);
    }

    /// <summary>
    /// A Redis value is a hit iff it is a value envelope written under the tags' current generations, not past its
    /// recorded expiry, and reads as a <typeparamref name="T"/>.
    /// </summary>
    public bool TryRead<T>(string key, string[] tags, RedisRead read, out T value, out int jsonOffset) =>
        TryDecode(key, tags, read, TimeSpan.Zero, out value, out jsonOffset);

    /// <summary>
    /// As <see cref="TryRead{T}"/>, for an entry that may carry more tags than <paramref name="tags"/> (tags from its
    /// value), before the last of them (the clear epoch, last in every entry): only <paramref name="tags"/> are checked;
    /// <paramref name="moreTags"/> says how many more it has.
    /// </summary>
    public bool TryReadWithMoreTags<T>(string key, string[] tags, RedisRead read, out T value, out int jsonOffset, out int moreTags)
    {
        moreTags = 0;
        if (!TryDecode(key, tags, read, TimeSpan.Zero, out value, out jsonOffset, allowMoreTags: true))
            return false;
        Envelope.Parse(read.Value, out int tagCount, out _, out _);
        moreTags = tagCount - tags.Length;
        return true;
    }

    /// <summary>
    /// A fail-safe's fallback from Redis: a value envelope written under the tags' current generations (so never an
    /// evicted one) that expired less than <paramref name="staleFor"/> ago, read as a <typeparamref name="T"/>.
    /// </summary>
    public bool TryReadStale<T>(string key, string[] tags, RedisRead read, TimeSpan staleFor, out T value, out int jsonOffset) =>
        TryDecode(key, tags, read, staleFor, out value, out jsonOffset);

    /// <summary>With <paramref name="staleFor"/> zero a hit; else only an entry within that long past its expiry.</summary>
    private bool TryDecode<T>(string key, string[] tags, RedisRead read, TimeSpan staleFor, out T value, out int jsonOffset, bool allowMoreTags = false)
    {
        value = default!;
        jsonOffset = 0;
        if (!read.Succeeded || read.Value is not { } bytes || !IsCacheable<T>())
            return false;
        switch (Envelope.Parse(bytes, out int tagCount, out jsonOffset, out string? problem))
        {
            case EnvelopeKind.Tombstone or EnvelopeKind.Outdated or EnvelopeKind.Newer:
                return false;
            case EnvelopeKind.Invalid:
                return Corrupt(key, CorruptKinds.Format, problem!);
        }
        // Written under other tags, or before an eviction of one of them: stale, not corrupt.
        if (allowMoreTags ? tagCount < tags.Length : tagCount != tags.Length)
            return false;
        for (int i = 0; i < tags.Length; i++)
        {
            // Tags from the value come before the last tag, the clear epoch, which stays last.
            int at = allowMoreTags && i == tags.Length - 1 ? tagCount - 1 : i;
            if (Envelope.GetGeneration(bytes, at) != read.Generations[i])
                return false;
        }
        // Past its logical expiry (Redis expires it a moment later, or keeps it for a stale window): a miss, not corrupt.
        long expiresAt = Envelope.GetExpiry(bytes, jsonOffset);
        bool expired = expiresAt != 0 && expiresAt <= UtcNowMilliseconds;
        if (staleFor == TimeSpan.Zero ? expired : !expired || UtcNowMilliseconds - expiresAt >= staleFor.TotalMilliseconds)
            return false;
        // The store decompressed it already, unless its bytes would not decompress.
        byte format = Envelope.GetFormat(bytes, jsonOffset);
        if (PayloadFormat.IsCompressed(format))
            return Corrupt(key, CorruptKinds.Compression, "a compressed payload that does not decompress (damaged bytes, or more than MaximumPayloadBytes)");
        // Written by another serializer than this instance uses for the type (one was added or removed from DI): a
        // miss, replaced by the next fill, and not corruption: every deploy that changes serializers meets it.
        if ((format & PayloadFormat.SerializerMask) != serializer.FormatOf<T>())
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
        catch (JsonException e)
        {
            // JSON of the wrong shape. Should the type itself write JSON it cannot read, the next fills probe it again,
            // so it is found uncacheable instead of being rewritten and reported here forever.
            value = default!;
            serializer.RoundTripOf<T>().Reprobe();
            return Corrupt(key, CorruptKinds.Json, "JSON that is not a " + typeof(T).Name, e);
        }
        catch (Exception e)
        {
            // Checked bytes of the right schema that the type cannot be created from (no usable constructor, a
            // constructor or setter that threw): the type's fault, not the entry's. Not cached from now on.
            value = default!;
            Uncacheable(serializer.RoundTripOf<T>(), "values stored earlier cannot be read back (" + e.GetType().Name + ")", e, countValue: false);
            return false;
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

namespace CacheGen.Redis;

/// <summary>
/// An in-process entry: the JSON (when kept) and, for immutable types, the value itself. It is a hit until
/// <see cref="FreshUntil"/>, and kept until <see cref="ExpiresAt"/>: the time between is a fail-safe method's stale
/// window, when the entry is served only if the data call fails.
/// </summary>
internal class LocalEntry(byte[]? buffer, int jsonOffset, long size, long expiresAt, LocalValidity validity, long freshUntil = long.MaxValue)
{
    public long FreshUntil { get; } = Math.Min(freshUntil, expiresAt);

    /// <summary>The envelope the value was read from or written as; null when only the value is kept.</summary>
    public byte[]? Buffer { get; } = buffer;

    public int JsonOffset { get; } = jsonOffset;

    /// <summary>What the entry counts against the in-process byte budget: the size of its serialized form.</summary>
    public long Size { get; } = size;

    public long ExpiresAt { get; } = expiresAt;

    public LocalValidity Validity { get; } = validity;

    // When a hit starts a background refresh of the entry (Now units); long.MaxValue: never, or one was already started.
    private long _refreshAt = long.MaxValue;

    /// <summary>Sets when a hit starts a refresh of the entry (RefreshAheadPercent); before the entry is stored.</summary>
    public void RefreshFrom(long at) => _refreshAt = at;

    /// <summary>
    /// Whether a hit at <paramref name="now"/> starts the entry's refresh: true once per entry, for the first caller past
    /// its refresh point, so a refresh that fails is not retried on every hit (the entry is served until it expires).
    /// </summary>
    public bool TryClaimRefresh(long now)
    {
        long at = Volatile.Read(ref _refreshAt);
        return now >= at && Interlocked.CompareExchange(ref _refreshAt, long.MaxValue, at) == at;
    }
}

/// <summary>An in-process entry of an immutable type, which every caller may share.</summary>
internal sealed class LocalEntry<T>(T value, long size, long expiresAt, LocalValidity validity, long freshUntil = long.MaxValue)
    : LocalEntry(null, 0, size, expiresAt, validity, freshUntil)
{
    public T Value { get; } = value;
}

namespace CacheGen.Redis;

/// <summary>
/// The local generation of one tag; bumping it invalidates every in-process entry filled under the old one. A tag the
/// table forgets is retired first: its value turns negative for good, so no entry or fill that captured it, before or
/// after, is ever current again (a later eviction of the tag would bump a new instance, not this one).
/// </summary>
internal sealed class TagGeneration(long usedAt)
{
    private long _value;
    private long _usedAt = usedAt;

    public long Value => Volatile.Read(ref _value);

    /// <summary>When a fill last captured it (<see cref="LocalCache.Now"/> units).</summary>
    public long UsedAt => Volatile.Read(ref _usedAt);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Touch(long now) => Volatile.Write(ref _usedAt, now);

    public void Retire() => Interlocked.Or(ref _value, long.MinValue);
}

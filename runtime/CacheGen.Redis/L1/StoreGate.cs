namespace CacheGen.Redis;

/// <summary>
/// What stands between a value computed in the background (a fill, a write-through) and the in-process cache: once an
/// eviction, a set or an overlapping write invalidates it, the value never gets there. Storing and invalidating are
/// one step with respect to each other, so an evictor that invalidates first and then removes the key always removes
/// what was stored: there is no moment after the eviction when the value is served.
/// </summary>
internal class StoreGate
{
    private readonly Lock _lock = new();
    private volatile bool _invalidated;

    public bool IsInvalidated => _invalidated;

    /// <summary>Closes the gate; returns once a store that began before is done.</summary>
    public void Invalidate()
    {
        lock (_lock)
            _invalidated = true;
    }

    /// <summary>Stores <paramref name="entry"/> under <paramref name="key"/> unless the gate was invalidated; says whether it did.</summary>
    public bool StoreUnlessInvalidated(LocalCache local, string key, LocalEntry entry)
    {
        lock (_lock)
            return !_invalidated && local.Set(key, entry);
    }

    /// <summary>Stores <paramref name="entry"/> in place of <paramref name="expected"/> unless the gate was invalidated or that entry has gone.</summary>
    public bool ReplaceUnlessInvalidated(LocalCache local, string key, LocalEntry expected, LocalEntry entry)
    {
        lock (_lock)
            return !_invalidated && local.Replace(key, expected, entry);
    }
}

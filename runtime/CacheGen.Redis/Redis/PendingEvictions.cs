using System.Collections.Concurrent;

namespace CacheGen.Redis;

/// <summary>
/// Evictions (key tombstones and tag generation bumps) that Redis did not confirm: failed, timed out, or not sent
/// because the circuit breaker was open. Until one is replayed, Redis may still hold what it should have evicted (a
/// restart from persistence brings old entries and old generations back; a frozen server kept them), so reads of that
/// key or tag must not use Redis. Bounded: past the capacity an eviction cannot be remembered, and the caller falls
/// back to not reading Redis at all for a while (see <see cref="BypassUntil"/>).
/// </summary>
internal sealed class PendingEvictions(int capacity)
{
    private readonly ConcurrentDictionary<string, PendingEviction> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingEviction> _tags = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _count;
    private long _sequence;
    private long _bypassUntilTicks;

    /// <summary>The hot path's check: nothing pending (one volatile read).</summary>
    public bool IsEmpty => Volatile.Read(ref _count) == 0;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Remembers an eviction; a name already pending is renewed (it must be replayed after this eviction too).</summary>
    public PendingAddition Add(bool isTag, string name, TimeSpan lifetime)
    {
        ConcurrentDictionary<string, PendingEviction> set = isTag ? _tags : _keys;
        lock (_gate)
        {
            var eviction = new PendingEviction(isTag, name, lifetime, ++_sequence);
            if (set.ContainsKey(name))
            {
                set[name] = eviction;
                return PendingAddition.Added;
            }
            if (_count >= capacity)
                return PendingAddition.Overflowed;
            set[name] = eviction;
            return ++_count == 1 ? PendingAddition.First : PendingAddition.Added;
        }
    }

    /// <summary>Forgets a replayed eviction, unless the same name was evicted (and failed) again meanwhile.</summary>
    public void Remove(PendingEviction eviction)
    {
        ConcurrentDictionary<string, PendingEviction> set = eviction.IsTag ? _tags : _keys;
        lock (_gate)
        {
            if (set.TryRemove(new KeyValuePair<string, PendingEviction>(eviction.Name, eviction)))
                _count--;
        }
    }

    /// <summary>Whether <paramref name="key"/> or one of <paramref name="tags"/> has an eviction Redis has not confirmed.</summary>
    public bool Covers(string key, string[] tags)
    {
        if (IsEmpty)
            return false;
        if (_keys.ContainsKey(key))
            return true;
        foreach (string tag in tags)
        {
            if (_tags.ContainsKey(tag))
                return true;
        }
        return false;
    }

    /// <summary>Every pending eviction, tags first (a region eviction covers more entries than a key's).</summary>
    public List<PendingEviction> Snapshot() => [.. _tags.Values, .. _keys.Values];

    /// <summary>
    /// After an overflow: Redis is not read until <paramref name="until"/> (or a later time already set). Entries carry
    /// their TTL as an absolute time in Redis (kept across restarts, counted while a server is frozen), so once the
    /// longest lifetime has passed no entry that missed a forgotten eviction can be left. Returns true if no bypass
    /// was in force before.
    /// </summary>
    public bool BypassUntil(DateTimeOffset until)
    {
        bool wasBypassing = Volatile.Read(ref _bypassUntilTicks) > DateTimeOffset.UtcNow.UtcTicks;
        AtomicMax.Raise(ref _bypassUntilTicks, until.UtcTicks);
        return !wasBypassing;
    }

    /// <summary>Whether Redis must not be read at all now (an overflow's evictions may still be missing).</summary>
    public bool IsBypassing
    {
        get
        {
            long until = Volatile.Read(ref _bypassUntilTicks);
            return until != 0 && DateTimeOffset.UtcNow.UtcTicks < until;
        }
    }
}

using System.Collections.Concurrent;
using System.Text.Json;

namespace CacheGen.Redis;

/// <summary>
/// The in-process cache (L1). Entries expire by an absolute time from the injected <see cref="TimeProvider"/>; tag
/// eviction is O(1) (bump the tag's local generation, entries check theirs on read); the size is bounded by entry count
/// and by bytes (each entry counts the size of its serialized form). The tag table holds only tags a fill captured
/// (evicting an unknown tag adds nothing), forgets those no live entry can carry (unused for longer than the longest
/// in-process lifetime), and is bounded besides: past its cap the least recently used are retired and dropped.
/// Mutable values are kept as JSON and deserialized on every hit, so callers never share a mutable instance.
/// </summary>
internal sealed class LocalCache
{
    private readonly ConcurrentDictionary<string, LocalEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LocalEntry>.AlternateLookup<ReadOnlySpan<char>> _entriesBySpan;
    private readonly ConcurrentDictionary<string, TagGeneration> _tags = new(StringComparer.Ordinal);
    private readonly PayloadSerializer _serializer;
    private readonly TimeProvider _time;
    private readonly bool _systemClock;
    private readonly int _maximumEntries;
    private readonly long _maximumBytes;
    private readonly double _timestampTicksPerTimeSpanTick;
    private readonly int _maximumTags;
    private readonly long _tagGrace;
    private long _epoch;
    // Moves on after every in-process eviction (tag, clear, retired tag): see LocalValidity.
    private long _invalidations;
    private long _longestLifetime;
    private long _lastTagSweep;
    private int _tagSweepAt = MinimumTagSweep;
    private int _sweepingTags;
    private int _tagCount; // kept by hand: ConcurrentDictionary.Count takes every lock
    private int _count;
    private long _bytes;
    private int _trimming;

    public LocalCache(PayloadSerializer serializer, TimeProvider time, int maximumEntries, long maximumBytes)
    {
        _serializer = serializer;
        _time = time;
        // The system clock is read on every hit: the millisecond tick count (a coarse clock, a few ns) instead of the
        // high-resolution timestamp (tens of ns in a VM) is precise enough for lifetimes of seconds.
        _systemClock = time == TimeProvider.System;
        _maximumEntries = maximumEntries;
        _maximumBytes = maximumBytes;
        // An entry usually carries its region and an entity tag or two: room for two distinct tags per entry before tags
        // still in use are dropped (which only turns their entries into misses).
        _maximumTags = (int)Math.Clamp(2L * maximumEntries, MinimumTagSweep, int.MaxValue);
        _timestampTicksPerTimeSpanTick = _systemClock ? 1.0 / TimeSpan.TicksPerMillisecond : (double)time.TimestampFrequency / TimeSpan.TicksPerSecond;
        _tagGrace = (long)(TimeSpan.TicksPerMinute * _timestampTicksPerTimeSpanTick);
        _entriesBySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Approximately how many entries are held (live or not yet swept).</summary>
    public int Count => _entries.Count;

    /// <summary>How many tags the tag table holds.</summary>
    public int TagCount => Volatile.Read(ref _tagCount);

    /// <summary>The entry count kept for the <c>MaximumLocalEntries</c> bound (equal to <see cref="Count"/> when nothing runs).</summary>
    public int AccountedCount => Volatile.Read(ref _count);

    /// <summary>The bytes the held entries count against <c>MaximumLocalBytes</c>.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    public bool TryGet<T>(string key, out T value)
    {
        if (_entries.TryGetValue(key, out LocalEntry? entry))
            return TryRead(key, entry, out value);
        value = default!;
        return false;
    }

    /// <summary>The span-keyed lookup: a hit allocates nothing (no key string is made).</summary>
    public bool TryGet<T>(ReadOnlySpan<char> key, out T value)
    {
        if (_entriesBySpan.TryGetValue(key, out string? storedKey, out LocalEntry? entry))
            return TryRead(storedKey, entry, out value);
        value = default!;
        return false;
    }

    /// <summary>
    /// Whether the live entry of <paramref name="key"/> is past its refresh point, claimed for the caller (once per entry):
    /// asked after a hit, only by methods that refresh ahead.
    /// </summary>
    public bool TryClaimRefresh(ReadOnlySpan<char> key)
    {
        if (!_entriesBySpan.TryGetValue(key, out LocalEntry? entry))
            return false;
        long now = Now;
        return now < entry.FreshUntil && entry.TryClaimRefresh(now);
    }

    private bool TryRead<T>(string key, LocalEntry entry, out T value)
    {
        if (!IsLive(entry))
        {
            // Past its fresh time but in its stale window: kept for the fail-safe (TryGetStale).
            if (!IsServableStale(entry))
                RemoveExact(key, entry);
            value = default!;
            return false;
        }
        return TryValue(entry, out value);
    }

    /// <summary>
    /// A fail-safe's fallback: the entry of <paramref name="key"/> past its fresh time but within its stale window, never
    /// one that was evicted.
    /// </summary>
    public bool TryGetStale<T>(string key, out T value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LocalEntry? entry)
    {
        if (_entries.TryGetValue(key, out entry) && IsServableStale(entry) && TryValue(entry, out value))
            return true;
        value = default!;
        entry = null;
        return false;
    }

    private bool IsServableStale(LocalEntry entry) => Now < entry.ExpiresAt && IsCurrent(entry.Validity);

    private bool TryValue<T>(LocalEntry entry, out T value)
    {
        if ((ImmutableType<T>.Value || ImmutableType<T>.ReadOnlyCopy is not null) && entry is LocalEntry<T> typed)
        {
            value = typed.Value;
            return true;
        }
        if (entry.Buffer is not null)
        {
            try
            {
                value = _serializer.Deserialize<T>(entry.Buffer, entry.JsonOffset);
                return true;
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
            {
                // The same key read as another type: not ours to answer.
            }
            catch (Exception)
            {
                // Bytes the type itself wrote that it cannot read back (a constructor that threw for this value): a miss,
                // never an exception on a hit, and the type's next fills are probed again.
                _serializer.RoundTripOf<T>().Reprobe();
            }
        }
        value = default!;
        return false;
    }

    private bool IsLive(LocalEntry entry) =>
        Now < entry.FreshUntil && IsCurrent(entry.Validity);

    /// <summary>Captures the epoch and tag generations before a fill reads or computes anything.</summary>
    public LocalValidity Capture(string[] tags)
    {
        // The count first: an eviction between it and the generations below makes the first check a full one.
        long invalidations = Volatile.Read(ref _invalidations);
        long epoch = Volatile.Read(ref _epoch);
        if (tags.Length == 0)
            return new LocalValidity(epoch, LocalValidity.NoTags, [], invalidations);
        var states = new TagGeneration[tags.Length];
        var generations = new long[tags.Length];
        long now = Now;
        bool added = false;
        for (int i = 0; i < tags.Length; i++)
        {
            if (_tags.TryGetValue(tags[i], out TagGeneration? state))
            {
                // Only when the stamp is a quarter of the grace old: every L1 hit of the tag reads the same object, and a
                // write per fill would take its cache line from every core; the sweep allows the grace as slack.
                if (now - state.UsedAt > _tagGrace / 4)
                    state.Touch(now);
            }
            else
            {
                var created = new TagGeneration(now);
                state = _tags.GetOrAdd(tags[i], created);
                if (ReferenceEquals(state, created))
                {
                    Interlocked.Increment(ref _tagCount);
                    added = true;
                }
            }
            states[i] = state;
            generations[i] = state.Value;
        }
        if (added)
            SweepTagsIfDue(now);
        return new LocalValidity(epoch, states, generations, invalidations);
    }

    /// <summary>How few tags the table keeps before it looks for ones to forget.</summary>
    private const int MinimumTagSweep = 1024;

    /// <summary>
    /// Sweeps the tag table when it has doubled since the last sweep or passed its cap, or when a longest lifetime has
    /// passed since the last sweep: amortized O(1) per new tag (O(log n) while it is full of tags in use).
    /// </summary>
    private void SweepTagsIfDue(long now)
    {
        int count = Volatile.Read(ref _tagCount);
        if (count <= MinimumTagSweep)
            return;
        // Past the longest lifetime every entry that captured the tag has expired; the minute more is for fills still
        // running (a retired tag takes no joiners), and keeps sweeps due by time to one a minute at most.
        long longest = Volatile.Read(ref _longestLifetime);
        long idle = longest >= long.MaxValue - _tagGrace ? long.MaxValue : longest + _tagGrace;
        if (count <= Math.Min(Volatile.Read(ref _tagSweepAt), _maximumTags) && now - Volatile.Read(ref _lastTagSweep) < idle)
            return;
        if (Interlocked.Exchange(ref _sweepingTags, 1) == 1)
            return;
        try
        {
            // A tag unused for that long has no live entry: every entry that captured it was filled before and has
            // expired. A fill still running with it is not kept in-process (retired = never current).
            foreach (KeyValuePair<string, TagGeneration> pair in _tags)
            {
                if (now - pair.Value.UsedAt > idle)
                    DropTag(pair);
            }
            if (Volatile.Read(ref _tagCount) > _maximumTags)
            {
                // Over the cap with tags in use: the least recently used go; their entries become misses.
                KeyValuePair<string, TagGeneration>[] all = [.. _tags];
                long[] usedAt = Array.ConvertAll(all, static p => p.Value.UsedAt);
                Array.Sort(usedAt, all);
                for (int i = 0; i < all.Length && Volatile.Read(ref _tagCount) > _maximumTags - _maximumTags / 10; i++)
                    DropTag(all[i]);
            }
            Volatile.Write(ref _lastTagSweep, now);
            Volatile.Write(ref _tagSweepAt, Math.Max(MinimumTagSweep, Volatile.Read(ref _tagCount) * 2));
        }
        finally
        {
            Volatile.Write(ref _sweepingTags, 0);
        }
    }

    private void DropTag(KeyValuePair<string, TagGeneration> pair)
    {
        // Retired before it leaves the table: a fill that found it a moment ago captures a value that is never current.
        pair.Value.Retire();
        Interlocked.Increment(ref _invalidations);
        if (_tags.TryRemove(pair))
            Interlocked.Decrement(ref _tagCount);
    }

    public bool IsCurrent(LocalValidity validity)
    {
        long invalidations = Volatile.Read(ref _invalidations);
        return validity.IsCurrent(Volatile.Read(ref _epoch), invalidations);
    }

    /// <summary>The current time in this cache's clock units (milliseconds for the system clock, else <see cref="TimeProvider"/> timestamps).</summary>
    public long Now => _systemClock ? Environment.TickCount64 : _time.GetTimestamp();

    /// <summary>A duration in <see cref="Now"/> units.</summary>
    public long DurationOf(TimeSpan span)
    {
        double ticks = span.Ticks * _timestampTicksPerTimeSpanTick;
        return ticks >= long.MaxValue ? long.MaxValue : (long)ticks;
    }

    /// <summary>The absolute expiry of an entry whose value was read at <paramref name="from"/> and lives for <paramref name="lifetime"/>.</summary>
    public long ExpiryFor(TimeSpan lifetime, long from)
    {
        double ticks = lifetime.Ticks * _timestampTicksPerTimeSpanTick;
        NoteLifetime(ticks);
        return ticks >= long.MaxValue - from ? long.MaxValue : from + (long)ticks;
    }

    /// <summary>The longest in-process lifetime given so far: how long a tag stays in the table after its last use.</summary>
    private void NoteLifetime(double ticks)
    {
        AtomicMax.Raise(ref _longestLifetime, ticks >= long.MaxValue ? long.MaxValue : (long)ticks);
    }

    /// <summary>Stores an entry unless it is already stale (expired, or evicted while it was being filled); says whether it did.</summary>
    public bool Set(string key, LocalEntry entry)
    {
        if (!IsLive(entry) || entry.Size > _maximumBytes)
            return false;
        // Counted on the swap that actually happened, against the very entry it displaced: an update that loses to a
        // removal retries as an add, and only whoever takes an entry out subtracts its size. (Entries compare by
        // reference: TryUpdate and the exact removal rely on it.)
        long bytes;
        while (true)
        {
            if (_entries.TryGetValue(key, out LocalEntry? current))
            {
                if (_entries.TryUpdate(key, entry, current))
                {
                    bytes = Interlocked.Add(ref _bytes, entry.Size - current.Size);
                    break;
                }
            }
            else if (_entries.TryAdd(key, entry))
            {
                Interlocked.Increment(ref _count);
                bytes = Interlocked.Add(ref _bytes, entry.Size);
                break;
            }
        }
        if (Volatile.Read(ref _count) > _maximumEntries || bytes > _maximumBytes)
            Trim();
        return true;
    }

    /// <summary>
    /// Stores <paramref name="entry"/> in place of <paramref name="expected"/> only while that is still the entry under
    /// <paramref name="key"/>: whatever replaced or removed it since wins. Says whether it did.
    /// </summary>
    public bool Replace(string key, LocalEntry expected, LocalEntry entry)
    {
        if (!IsLive(entry) || entry.Size > _maximumBytes || !_entries.TryUpdate(key, entry, expected))
            return false;
        if (Interlocked.Add(ref _bytes, entry.Size - expected.Size) > _maximumBytes)
            Trim();
        return true;
    }

    public void Remove(string key)
    {
        if (_entries.TryRemove(key, out LocalEntry? removed))
            Forget(removed);
    }

    /// <summary>Removes what is stored under <paramref name="key"/> unless it is <paramref name="keep"/>.</summary>
    public void RemoveOtherThan(string key, LocalEntry? keep)
    {
        if (_entries.TryGetValue(key, out LocalEntry? current) && !ReferenceEquals(current, keep))
            RemoveExact(key, current);
    }

    /// <summary>Removes <paramref name="entry"/> only if it is still the one stored under <paramref name="key"/>.</summary>
    public void RemoveExact(string key, LocalEntry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, LocalEntry>(key, entry)))
            Forget(entry);
    }

    private void Forget(LocalEntry removed)
    {
        Interlocked.Decrement(ref _count);
        Interlocked.Add(ref _bytes, -removed.Size);
    }

    /// <summary>
    /// O(1): every entry (and fill) captured under the tag's current generation becomes stale. A tag not in the table
    /// has nothing captured under it (a fill that captures it from now on started after this eviction), so nothing is
    /// added for it.
    /// </summary>
    public void InvalidateTag(string tag)
    {
        if (_tags.TryGetValue(tag, out TagGeneration? state))
        {
            state.Increment();
            Interlocked.Increment(ref _invalidations);
        }
    }

    /// <summary>Drops everything, including fills in flight (their captured epoch no longer matches).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _epoch);
        Interlocked.Increment(ref _invalidations);
        foreach (KeyValuePair<string, LocalEntry> pair in _entries)
            RemoveExact(pair.Key, pair.Value);
    }

    private void Trim()
    {
        if (Interlocked.Exchange(ref _trimming, 1) == 1)
            return;
        try
        {
            foreach (KeyValuePair<string, LocalEntry> pair in _entries)
            {
                if (!IsLive(pair.Value))
                    RemoveExact(pair.Key, pair.Value);
            }
            // Still full: drop arbitrary entries down to 90% so the next trims are not one insert apart.
            int targetCount = _maximumEntries - _maximumEntries / 10;
            long targetBytes = _maximumBytes - _maximumBytes / 10;
            foreach (KeyValuePair<string, LocalEntry> pair in _entries)
            {
                if (Volatile.Read(ref _count) <= targetCount && Volatile.Read(ref _bytes) <= targetBytes)
                    break;
                RemoveExact(pair.Key, pair.Value);
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}

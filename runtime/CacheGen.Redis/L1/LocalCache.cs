using System.Collections.Concurrent;
using System.Text.Json;

namespace CacheGen.Redis;

/// <summary>The local generation of one tag; bumping it invalidates every in-process entry filled under the old one.</summary>
internal sealed class TagGeneration
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}

/// <summary>
/// What an in-process entry (or a fill in flight) was computed under: the cache epoch and the local generation of each
/// tag, captured before the value was read or computed. Any later eviction makes it not current.
/// </summary>
internal sealed class LocalValidity(long epoch, TagGeneration[] tags, long[] generations)
{
    public static readonly TagGeneration[] NoTags = [];

    public long Epoch { get; } = epoch;

    public bool IsCurrent(long currentEpoch)
    {
        if (Epoch != currentEpoch)
            return false;
        for (int i = 0; i < tags.Length; i++)
        {
            if (tags[i].Value != generations[i])
                return false;
        }
        return true;
    }
}

/// <summary>An in-process entry: the JSON (when kept) and, for immutable types, the value itself.</summary>
internal class LocalEntry(byte[]? buffer, int jsonOffset, long size, long expiresAt, LocalValidity validity)
{
    /// <summary>The envelope the value was read from or written as; null when only the value is kept.</summary>
    public byte[]? Buffer { get; } = buffer;

    public int JsonOffset { get; } = jsonOffset;

    /// <summary>What the entry counts against the in-process byte budget: the size of its serialized form.</summary>
    public long Size { get; } = size;

    public long ExpiresAt { get; } = expiresAt;

    public LocalValidity Validity { get; } = validity;
}

/// <summary>An in-process entry of an immutable type, which every caller may share.</summary>
internal sealed class LocalEntry<T>(T value, long size, long expiresAt, LocalValidity validity)
    : LocalEntry(null, 0, size, expiresAt, validity)
{
    public T Value { get; } = value;
}

/// <summary>
/// The in-process cache (L1). Entries expire by an absolute time from the injected <see cref="TimeProvider"/>; tag
/// eviction is O(1) (bump the tag's local generation, entries check theirs on read); the size is bounded by entry count
/// and by bytes (each entry counts the size of its serialized form).
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
    private long _epoch;
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
        _timestampTicksPerTimeSpanTick = _systemClock ? 1.0 / TimeSpan.TicksPerMillisecond : (double)time.TimestampFrequency / TimeSpan.TicksPerSecond;
        _entriesBySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Approximately how many entries are held (live or not yet swept).</summary>
    public int Count => _entries.Count;

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

    private bool TryRead<T>(string key, LocalEntry entry, out T value)
    {
        if (!IsLive(entry))
        {
            RemoveExact(key, entry);
            value = default!;
            return false;
        }
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
        }
        value = default!;
        return false;
    }

    private bool IsLive(LocalEntry entry) =>
        Now < entry.ExpiresAt && entry.Validity.IsCurrent(Volatile.Read(ref _epoch));

    /// <summary>Captures the epoch and tag generations before a fill reads or computes anything.</summary>
    public LocalValidity Capture(string[] tags)
    {
        long epoch = Volatile.Read(ref _epoch);
        if (tags.Length == 0)
            return new LocalValidity(epoch, LocalValidity.NoTags, []);
        var states = new TagGeneration[tags.Length];
        var generations = new long[tags.Length];
        for (int i = 0; i < tags.Length; i++)
        {
            states[i] = _tags.GetOrAdd(tags[i], static _ => new TagGeneration());
            generations[i] = states[i].Value;
        }
        return new LocalValidity(epoch, states, generations);
    }

    public bool IsCurrent(LocalValidity validity) => validity.IsCurrent(Volatile.Read(ref _epoch));

    /// <summary>The current time in this cache's clock units (milliseconds for the system clock, else <see cref="TimeProvider"/> timestamps).</summary>
    public long Now => _systemClock ? Environment.TickCount64 : _time.GetTimestamp();

    /// <summary>The absolute expiry, in <see cref="TimeProvider"/> timestamps, of an entry stored now for <paramref name="lifetime"/>.</summary>
    public long ExpiryFor(TimeSpan lifetime) => ExpiryFor(lifetime, Now);

    /// <summary>The absolute expiry of an entry whose value was read at <paramref name="from"/> and lives for <paramref name="lifetime"/>.</summary>
    public long ExpiryFor(TimeSpan lifetime, long from)
    {
        double ticks = lifetime.Ticks * _timestampTicksPerTimeSpanTick;
        return ticks >= long.MaxValue - from ? long.MaxValue : from + (long)ticks;
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

    /// <summary>O(1): every entry (and fill) captured under the tag's current generation becomes stale.</summary>
    public void InvalidateTag(string tag) => _tags.GetOrAdd(tag, static _ => new TagGeneration()).Increment();

    /// <summary>Drops everything, including fills in flight (their captured epoch no longer matches).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _epoch);
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

using System.Collections.Concurrent;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// The highest generation this instance has seen under each generation key (a tag's counter or a slot's clear epoch).
/// Generations only grow, so a lower one means Redis lost writes (a restart from an older snapshot or AOF, a failover
/// to a replica that lagged): the entries it holds under that generation may be ones this instance saw evicted. The
/// read then raises the generation past what was seen (atomically, in the script) and is a miss.
/// </summary>
/// <remarks>
/// Bounded: past <see cref="Capacity"/> keys, the least recently seen tenth is forgotten. A forgotten key is not
/// protected against a rollback until this instance sees it again. Checking costs one dictionary lookup per tag on an
/// L2 read, no round trip.
/// </remarks>
internal sealed class GenerationFloors
{
    public const int Capacity = 100_000;

    private readonly ConcurrentDictionary<RedisKey, Seen> _seen = new();
    private int _trimming;
    private int _count; // kept by hand: ConcurrentDictionary.Count takes every lock

    private sealed class Seen(long generation)
    {
        public long Generation = generation;
        public long TouchedAt = Environment.TickCount64;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether <paramref name="generation"/> under <paramref name="key"/> is lower than one seen before.</summary>
    public bool IsBehind(RedisKey key, long generation) =>
        _seen.TryGetValue(key, out Seen? seen) && generation < Volatile.Read(ref seen.Generation);

    /// <summary>The floor to pass to a script for <paramref name="key"/>: the highest generation seen, or "" if none.</summary>
    public RedisValue FloorOf(RedisKey key) =>
        _seen.TryGetValue(key, out Seen? seen) ? Volatile.Read(ref seen.Generation) : RedisValue.EmptyString;

    /// <summary>Records a generation read from or written to Redis.</summary>
    public void Observe(RedisKey key, long generation)
    {
        if (_seen.TryGetValue(key, out Seen? seen))
        {
            Volatile.Write(ref seen.TouchedAt, Environment.TickCount64);
            AtomicMax.Raise(ref seen.Generation, generation);
            return;
        }
        if (_seen.TryAdd(key, new Seen(generation)))
        {
            if (Interlocked.Increment(ref _count) > Capacity)
                Trim();
        }
        else
        {
            Observe(key, generation);
        }
    }

    private void Trim()
    {
        if (Interlocked.Exchange(ref _trimming, 1) == 1)
            return;
        try
        {
            // Times copied first: a sort must not see them change.
            (long TouchedAt, RedisKey Key)[] all = [.. _seen.Select(static p => (Volatile.Read(ref p.Value.TouchedAt), p.Key))];
            Array.Sort(all, static (a, b) => a.TouchedAt.CompareTo(b.TouchedAt));
            for (int i = 0; i < all.Length / 10 + 1 && i < all.Length; i++)
            {
                if (_seen.TryRemove(all[i].Key, out _))
                    Interlocked.Decrement(ref _count);
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}

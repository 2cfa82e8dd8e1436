namespace CacheGen.Redis;

/// <summary>Lock-free "raise to at least": the longest lifetime seen, the latest bypass time, the highest generation.</summary>
internal static class AtomicMax
{
    /// <summary>Raises <paramref name="location"/> to <paramref name="value"/> if it is lower; a concurrent higher value wins.</summary>
    public static void Raise(ref long location, long value)
    {
        long current = Volatile.Read(ref location);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
                return;
            current = seen;
        }
    }
}

namespace CacheGen.Redis;

// Freshness: a stored entry's own lifetime, decided when it is stored (a fill, a write-through; a batch item takes the
// same step): the method's lifetime, shortened at random by up to its JitterPercent, so entries written together
// expire spread out.
internal sealed partial class RedisHybridCache
{
    /// <summary>
    /// The settings one value is stored with: its lifetime in Redis (the envelope's expiry and the key's TTL) and its
    /// in-process lifetime, both shortened by the same random share, so the in-process copy never outlives the entry.
    /// </summary>
    private static EntrySettings ForStoring<T>(EntrySettings settings, T value)
    {
        _ = value;
        if (settings.JitterPercent <= 0)
            return settings;
        double kept = 1 - Random.Shared.NextDouble() * settings.JitterPercent / 100.0;
        return settings with
        {
            Expiration = Shortened(settings.Expiration, kept),
            LocalExpiration = Shortened(settings.LocalExpiration, kept),
        };
    }

    /// <summary><paramref name="lifetime"/> times <paramref name="kept"/> (at most 1), to the millisecond Redis keeps.</summary>
    private static TimeSpan Shortened(TimeSpan lifetime, double kept)
    {
        if (lifetime <= TimeSpan.Zero || lifetime == TimeSpan.MaxValue)
            return lifetime;
        double milliseconds = Math.Floor(lifetime.TotalMilliseconds * kept);
        return TimeSpan.FromMilliseconds(Math.Max(1, milliseconds));
    }
}

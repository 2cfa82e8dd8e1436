namespace CacheGen.Redis;

// Freshness: a stored entry's own lifetime, decided when it is stored (a fill, a write-through; a batch item takes the
// same step): the method's TtlFrom of the value, else its TTL; then shortened at random by up to its JitterPercent, so
// entries written together expire spread out.
internal sealed partial class RedisHybridCache
{
    /// <summary>
    /// The settings <paramref name="value"/> is stored with: its lifetime in Redis (the envelope's expiry and the key's
    /// TTL) and in-process, both shortened by the same random share, so the in-process copy never outlives the entry.
    /// Null when TtlFrom gives the value no lifetime (zero or less): it is returned, not stored.
    /// </summary>
    private EntrySettings? ForStoring<T>(EntrySettings settings, T value)
    {
        if (settings.Lifetime is Func<T, TimeSpan> lifetimeOf)
        {
            TimeSpan lifetime = lifetimeOf(value);
            if (lifetime <= TimeSpan.Zero)
                return null;
            // "Forever" (TimeSpan.MaxValue, say) is a year: every entry carries a TTL, and the stale window adds to it.
            lifetime = Min(lifetime, LongestLifetime);
            // In-process only, the copy is the entry; with Redis it is kept no longer than the in-process lifetime.
            TimeSpan local = _store is null ? lifetime : Min(settings.LocalExpiration, lifetime);
            settings = settings with { Expiration = lifetime, LocalExpiration = local, ExactLifetime = true };
        }
        if (settings.JitterPercent <= 0)
            return settings;
        double kept = 1 - Random.Shared.NextDouble() * settings.JitterPercent / 100.0;
        return settings with
        {
            Expiration = Shortened(settings.Expiration, kept),
            LocalExpiration = Shortened(settings.LocalExpiration, kept),
            ExactLifetime = true,
        };
    }

    /// <summary>The longest lifetime TtlFrom gives an entry.</summary>
    internal static readonly TimeSpan LongestLifetime = TimeSpan.FromDays(365);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary><paramref name="lifetime"/> times <paramref name="kept"/> (at most 1), to the millisecond Redis keeps.</summary>
    private static TimeSpan Shortened(TimeSpan lifetime, double kept)
    {
        if (lifetime <= TimeSpan.Zero || lifetime == TimeSpan.MaxValue)
            return lifetime;
        double milliseconds = Math.Floor(lifetime.TotalMilliseconds * kept);
        return TimeSpan.FromMilliseconds(Math.Max(1, milliseconds));
    }
}

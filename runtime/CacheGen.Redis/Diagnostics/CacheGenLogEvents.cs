namespace CacheGen.Redis;

/// <summary>
/// The event id of every log line CacheGen.Redis writes (category <c>CacheGen.Redis</c>; the event name is the
/// constant's name). Stable across releases: filter and alert on them, e.g. <c>e.EventId.Id == CacheGenLogEvents.CorruptEntry</c>.
/// </summary>
public static class CacheGenLogEvents
{
    /// <summary>No Redis is configured: the in-process cache alone (Information).</summary>
    public const int InProcessOnly = 1;
    /// <summary>The Redis configuration at start-up, without its password (Information).</summary>
    public const int RedisConfigured = 2;
    /// <summary>The connection to Redis was lost (Warning).</summary>
    public const int RedisConnectionFailed = 3;
    /// <summary>The connection to Redis is back (Information).</summary>
    public const int RedisConnectionRestored = 4;
    /// <summary>The first connection to Redis failed (Error).</summary>
    public const int RedisConnectFailed = 5;
    /// <summary>A read from Redis failed; the call went on as a miss (Debug).</summary>
    public const int RedisReadFailed = 10;
    /// <summary>A write to Redis failed (Debug).</summary>
    public const int RedisWriteFailed = 11;
    /// <summary>An eviction Redis did not confirm; it is replayed (Debug).</summary>
    public const int RedisEvictFailed = 12;
    /// <summary>An eviction message could not be published to other instances (Debug).</summary>
    public const int BackplanePublishFailed = 13;
    /// <summary>The subscription to other instances' evictions failed (Warning).</summary>
    public const int BackplaneSubscribeFailed = 14;
    /// <summary>The in-process cache was emptied when the Redis connection came back: evictions may have been missed (Information).</summary>
    public const int LocalCacheFlushed = 15;
    /// <summary>The in-process cache was emptied when the Redis connection dropped: other instances' evictions may be missed (Information).</summary>
    public const int LocalCacheFlushedOnDisconnect = 16;
    /// <summary>The subscription to other instances' evictions is back (Information).</summary>
    public const int BackplaneResubscribed = 17;
    /// <summary>Waiting for another instance's fill took too long; this instance ran the data call (Debug).</summary>
    public const int DistributedLockWaitTimedOut = 18;
    /// <summary>Foreign, damaged or out-of-date bytes under a key were replaced (Warning).</summary>
    public const int CorruptEntry = 20;
    /// <summary>A fill's write was refused because the entry was evicted while it ran (Debug).</summary>
    public const int StaleSetRejected = 21;
    /// <summary>A value could not be serialized; it was returned but not cached (Error).</summary>
    public const int SerializeFailed = 22;
    /// <summary>A value larger than the largest cached payload was returned but not cached (Warning).</summary>
    public const int PayloadTooLarge = 23;
    /// <summary>An eviction message could not be read (Warning, at most once a minute).</summary>
    public const int BackplaneMessageUnreadable = 24;
    /// <summary>A type does not read back exactly; its values are returned but not cached (Warning, once per type).</summary>
    public const int UncacheableType = 25;
    /// <summary>A write-through was evicted instead of stored because something else overlapped it (Debug).</summary>
    public const int UpdateEvicted = 26;
    /// <summary>An expired value was served because its data call failed or was slow (Warning, at most once a minute per key).</summary>
    public const int StaleServed = 27;
    /// <summary>The circuit breaker opened: Redis is skipped (Warning).</summary>
    public const int CircuitBreakerOpened = 30;
    /// <summary>The circuit breaker closed: calls go to Redis again (Information).</summary>
    public const int CircuitBreakerClosed = 31;
    /// <summary>A probe of Redis while the breaker is open failed (Debug).</summary>
    public const int CircuitBreakerProbeFailed = 32;
    /// <summary>Evictions are waiting for Redis to confirm them (Warning).</summary>
    public const int EvictionsPending = 33;
    /// <summary>Pending evictions reached Redis (Information).</summary>
    public const int EvictionsReplayed = 34;
    /// <summary>More evictions were pending than can be remembered; the instance reads nothing from Redis until entries that may have missed one expired (Warning).</summary>
    public const int PendingEvictionsOverflowed = 35;
    /// <summary>A generation in Redis went back (a restore from an older snapshot) and was moved forward again (Warning).</summary>
    public const int GenerationRolledBack = 36;
    /// <summary>After a dropped connection, recent key evictions are made again before those keys are read from Redis (Information).</summary>
    public const int KeyEvictionsReapplied = 37;
    /// <summary>Redis did not answer at start-up; the cache runs in-process until it does (Warning).</summary>
    public const int RedisNotConnectedAtStart = 40;
    /// <summary>The server refuses Lua scripts, which CacheGen needs (Warning).</summary>
    public const int ScriptingRefused = 41;
    /// <summary>A key's entry and its tags fall in different cluster slots (Warning, once per instance).</summary>
    public const int EntrySpansClusterSlots = 45;
    // Debug: one line per cache operation, to watch the cache work (Logging:LogLevel:CacheGen.Redis = Debug).
    /// <summary>A hit in the in-process cache, with the key (Debug).</summary>
    public const int LocalHit = 60;
    /// <summary>A hit in Redis, with the key (Debug).</summary>
    public const int RedisHit = 61;
    /// <summary>A miss: the data call runs, with the key (Debug).</summary>
    public const int Miss = 62;
    /// <summary>A key was evicted (Debug).</summary>
    public const int KeyEvicted = 63;
    /// <summary>Every entry with a tag was evicted (Debug).</summary>
    public const int TagEvicted = 64;
    // Refresh ahead (RefreshAheadPercent): started and skipped are Debug, a failed refresh a Warning.
    /// <summary>A refresh ahead of expiry started (Debug).</summary>
    public const int RefreshStarted = 65;
    /// <summary>A refresh ahead of expiry was skipped: another instance or fill is refreshing the key (Debug).</summary>
    public const int RefreshSkipped = 66;
    /// <summary>A refresh ahead of expiry failed; the current value stays (Warning).</summary>
    public const int RefreshFailed = 67;
}

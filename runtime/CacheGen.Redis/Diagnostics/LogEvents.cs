namespace CacheGen.Redis;

/// <summary>
/// The event id of every log line CacheGen.Redis writes (the event name is the constant's name). Stable: filter and
/// alert on them. Tests name them through these constants too.
/// </summary>
internal static class LogEvents
{
    public const int InProcessOnly = 1;
    public const int RedisConfigured = 2;
    public const int RedisConnectionFailed = 3;
    public const int RedisConnectionRestored = 4;
    public const int RedisConnectFailed = 5;
    public const int RedisReadFailed = 10;
    public const int RedisWriteFailed = 11;
    public const int RedisEvictFailed = 12;
    public const int BackplanePublishFailed = 13;
    public const int BackplaneSubscribeFailed = 14;
    public const int LocalCacheFlushed = 15;
    public const int LocalCacheFlushedOnDisconnect = 16;
    public const int BackplaneResubscribed = 17;
    public const int DistributedLockWaitTimedOut = 18;
    public const int CorruptEntry = 20;
    public const int StaleSetRejected = 21;
    public const int SerializeFailed = 22;
    public const int PayloadTooLarge = 23;
    public const int BackplaneMessageUnreadable = 24;
    public const int UncacheableType = 25;
    public const int UpdateEvicted = 26;
    public const int StaleServed = 27;
    public const int CircuitBreakerOpened = 30;
    public const int CircuitBreakerClosed = 31;
    public const int CircuitBreakerProbeFailed = 32;
    public const int EvictionsPending = 33;
    public const int EvictionsReplayed = 34;
    public const int PendingEvictionsOverflowed = 35;
    public const int GenerationRolledBack = 36;
    public const int KeyEvictionsReapplied = 37;
    public const int RedisNotConnectedAtStart = 40;
    public const int ScriptingRefused = 41;
    public const int EntrySpansClusterSlots = 45;
    // Debug: one line per cache operation, to watch the cache work (Logging:LogLevel:CacheGen.Redis = Debug).
    public const int LocalHit = 60;
    public const int RedisHit = 61;
    public const int Miss = 62;
    public const int KeyEvicted = 63;
    public const int TagEvicted = 64;
}

using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Every log line CacheGen writes, with stable event ids (filter or alert on them). Values are never logged; keys
/// are, since they name what was cached.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = CacheGenLogEvents.InProcessOnly, EventName = nameof(CacheGenLogEvents.InProcessOnly), Level = LogLevel.Information,
        Message = "CacheGen is running on the in-process cache only (no Redis configured)")]
    public static partial void InProcessOnly(ILogger logger);

    [LoggerMessage(EventId = CacheGenLogEvents.ScriptingRefused, EventName = nameof(CacheGenLogEvents.ScriptingRefused), Level = LogLevel.Warning,
        Message = "The Redis server refuses Lua scripts ({Reply}): CacheGen caches in-process only on this instance, and evictions still reach the other instances through pub/sub. Enable scripting (Garnet: --lua true) to share entries through Redis")]
    public static partial void ScriptingRefused(ILogger logger, string reply);

    // The configuration is logged without its password (ConfigurationOptions.ToString(includePassword: false)).
    [LoggerMessage(EventId = CacheGenLogEvents.RedisConfigured, EventName = nameof(CacheGenLogEvents.RedisConfigured), Level = LogLevel.Information,
        Message = "CacheGen is using Redis at {Configuration} with key prefix '{KeyPrefix}'")]
    public static partial void RedisConfigured(ILogger logger, string configuration, string keyPrefix);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisConnectionFailed, EventName = nameof(CacheGenLogEvents.RedisConnectionFailed), Level = LogLevel.Warning,
        Message = "CacheGen lost its Redis {ConnectionType} connection to {EndPoint} ({FailureType}); calls fall through to the data until it is back")]
    public static partial void RedisConnectionFailed(ILogger logger, string? endPoint, ConnectionType connectionType, ConnectionFailureType failureType);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisConnectionRestored, EventName = nameof(CacheGenLogEvents.RedisConnectionRestored), Level = LogLevel.Information,
        Message = "CacheGen's Redis {ConnectionType} connection to {EndPoint} is back")]
    public static partial void RedisConnectionRestored(ILogger logger, string? endPoint, ConnectionType connectionType);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisConnectFailed, EventName = nameof(CacheGenLogEvents.RedisConnectFailed), Level = LogLevel.Error,
        Message = "CacheGen could not set up its Redis connection; it runs on the in-process cache only")]
    public static partial void RedisConnectFailed(ILogger logger, Exception exception);

    // Per-call failures (10 to 13) are Debug: during an outage every request would write one. The circuit breaker's
    // state changes (30, 31) and the pending evictions (33 to 35) are the lines to alert on.
    [LoggerMessage(EventId = CacheGenLogEvents.RedisReadFailed, EventName = nameof(CacheGenLogEvents.RedisReadFailed), Level = LogLevel.Debug,
        Message = "CacheGen could not read '{Key}' from Redis; treating it as a miss")]
    public static partial void RedisReadFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisWriteFailed, EventName = nameof(CacheGenLogEvents.RedisWriteFailed), Level = LogLevel.Debug,
        Message = "CacheGen could not write '{Key}' to Redis; the value was returned but not stored there")]
    public static partial void RedisWriteFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisEvictFailed, EventName = nameof(CacheGenLogEvents.RedisEvictFailed), Level = LogLevel.Debug,
        Message = "CacheGen could not evict {Kind} '{Name}' in Redis; the eviction is remembered and replayed when Redis answers")]
    public static partial void RedisEvictFailed(ILogger logger, string kind, string name, Exception? exception);

    [LoggerMessage(EventId = CacheGenLogEvents.BackplanePublishFailed, EventName = nameof(CacheGenLogEvents.BackplanePublishFailed), Level = LogLevel.Debug,
        Message = "CacheGen could not publish an eviction to other instances; their in-process copies expire by themselves")]
    public static partial void BackplanePublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = CacheGenLogEvents.BackplaneSubscribeFailed, EventName = nameof(CacheGenLogEvents.BackplaneSubscribeFailed), Level = LogLevel.Warning,
        Message = "CacheGen could not subscribe to evictions from other instances; in-process copies expire by themselves")]
    public static partial void BackplaneSubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = CacheGenLogEvents.LocalCacheFlushed, EventName = nameof(CacheGenLogEvents.LocalCacheFlushed), Level = LogLevel.Information,
        Message = "CacheGen flushed its in-process cache after the Redis {ConnectionType} connection came back (evictions may have been missed)")]
    public static partial void LocalCacheFlushed(ILogger logger, ConnectionType connectionType);

    [LoggerMessage(EventId = CacheGenLogEvents.LocalCacheFlushedOnDisconnect, EventName = nameof(CacheGenLogEvents.LocalCacheFlushedOnDisconnect), Level = LogLevel.Information,
        Message = "CacheGen flushed its in-process cache: the Redis {ConnectionType} connection dropped, so evictions from other instances may be missed until it is back")]
    public static partial void LocalCacheFlushedOnDisconnect(ILogger logger, ConnectionType connectionType);

    [LoggerMessage(EventId = CacheGenLogEvents.BackplaneResubscribed, EventName = nameof(CacheGenLogEvents.BackplaneResubscribed), Level = LogLevel.Information,
        Message = "CacheGen heard its own probe on the eviction channel again: the subscription is back, and the in-process cache was flushed once more")]
    public static partial void BackplaneResubscribed(ILogger logger);

    [LoggerMessage(EventId = CacheGenLogEvents.DistributedLockWaitTimedOut, EventName = nameof(CacheGenLogEvents.DistributedLockWaitTimedOut), Level = LogLevel.Debug,
        Message = "CacheGen waited {Milliseconds} ms for another instance to fill '{Key}' and now runs the data call itself")]
    public static partial void DistributedLockWaitTimedOut(ILogger logger, string key, long milliseconds);

    [LoggerMessage(EventId = CacheGenLogEvents.CorruptEntry, EventName = nameof(CacheGenLogEvents.CorruptEntry), Level = LogLevel.Warning,
        Message = "CacheGen found unreadable bytes under '{Key}' in Redis ({Problem}); treating it as a miss and replacing it")]
    public static partial void CorruptEntry(ILogger logger, string key, string problem, Exception? exception = null);

    [LoggerMessage(EventId = CacheGenLogEvents.StaleSetRejected, EventName = nameof(CacheGenLogEvents.StaleSetRejected), Level = LogLevel.Debug,
        Message = "CacheGen did not store '{Key}' in Redis: it was written or evicted while the value was computed (stale set rejected)")]
    public static partial void StaleSetRejected(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.SerializeFailed, EventName = nameof(CacheGenLogEvents.SerializeFailed), Level = LogLevel.Error,
        Message = "CacheGen could not serialize the value of '{Key}' as {Type}; it was returned but not cached")]
    public static partial void SerializeFailed(ILogger logger, string key, string type, Exception exception);

    [LoggerMessage(EventId = CacheGenLogEvents.PayloadTooLarge, EventName = nameof(CacheGenLogEvents.PayloadTooLarge), Level = LogLevel.Warning,
        Message = "CacheGen did not cache '{Key}': its value is {Bytes} bytes serialized, more than MaximumPayloadBytes ({Maximum}); it was returned uncached")]
    public static partial void PayloadTooLarge(ILogger logger, string key, long bytes, int maximum);

    [LoggerMessage(EventId = CacheGenLogEvents.UncacheableType, EventName = nameof(CacheGenLogEvents.UncacheableType), Level = LogLevel.Warning,
        Message = "CacheGen does not cache values of type {Type}: {Problem}. They are returned to every caller but not stored, for the life of the process (logged once per type; counted in cachegen.uncacheable_values)")]
    public static partial void UncacheableType(ILogger logger, string type, string problem, Exception? exception);

    [LoggerMessage(EventId = CacheGenLogEvents.UpdateEvicted, EventName = nameof(CacheGenLogEvents.UpdateEvicted), Level = LogLevel.Debug,
        Message = "CacheGen evicted '{Key}' instead of storing a write-through: another write, eviction or fill of it overlapped the update")]
    public static partial void UpdateEvicted(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.StaleServed, EventName = nameof(CacheGenLogEvents.StaleServed), Level = LogLevel.Warning,
        Message = "CacheGen served an expired value of '{Key}' because its data call failed or was slow ({Reason}) (logged at most once a minute per key; counted in cachegen.stale_served)")]
    public static partial void StaleServed(ILogger logger, string key, string reason, Exception? exception);

    [LoggerMessage(EventId = CacheGenLogEvents.BackplaneMessageUnreadable, EventName = nameof(CacheGenLogEvents.BackplaneMessageUnreadable), Level = LogLevel.Warning,
        Message = "CacheGen ignored a message of {Length} characters on its eviction channel that no CacheGen instance sent (logged at most once a minute; counted in cachegen.backplane.dropped)")]
    public static partial void BackplaneMessageUnreadable(ILogger logger, int length);

    [LoggerMessage(EventId = CacheGenLogEvents.CircuitBreakerOpened, EventName = nameof(CacheGenLogEvents.CircuitBreakerOpened), Level = LogLevel.Warning,
        Message = "CacheGen stopped calling Redis after {Failures} failed or timed-out calls in a row; calls fall through to the data at once, and Redis is probed every {BreakMilliseconds} ms until it answers")]
    public static partial void CircuitBreakerOpened(ILogger logger, int failures, long breakMilliseconds, Exception? lastFailure);

    [LoggerMessage(EventId = CacheGenLogEvents.CircuitBreakerClosed, EventName = nameof(CacheGenLogEvents.CircuitBreakerClosed), Level = LogLevel.Information,
        Message = "CacheGen's Redis answers again after {OpenMilliseconds} ms; caching through Redis resumed")]
    public static partial void CircuitBreakerClosed(ILogger logger, long openMilliseconds);

    [LoggerMessage(EventId = CacheGenLogEvents.CircuitBreakerProbeFailed, EventName = nameof(CacheGenLogEvents.CircuitBreakerProbeFailed), Level = LogLevel.Debug,
        Message = "CacheGen's probe found Redis still not answering; the circuit breaker stays open")]
    public static partial void CircuitBreakerProbeFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = CacheGenLogEvents.EvictionsPending, EventName = nameof(CacheGenLogEvents.EvictionsPending), Level = LogLevel.Warning,
        Message = "CacheGen could not evict {Kind} '{Name}' in Redis; until Redis confirms it (and any later eviction it could not make), this instance does not read them from Redis, and it replays them when Redis answers")]
    public static partial void EvictionsPending(ILogger logger, string kind, string name);

    [LoggerMessage(EventId = CacheGenLogEvents.EvictionsReplayed, EventName = nameof(CacheGenLogEvents.EvictionsReplayed), Level = LogLevel.Information,
        Message = "CacheGen replayed {Count} evictions in Redis that it could not make earlier; none is pending now")]
    public static partial void EvictionsReplayed(ILogger logger, int count);

    [LoggerMessage(EventId = CacheGenLogEvents.PendingEvictionsOverflowed, EventName = nameof(CacheGenLogEvents.PendingEvictionsOverflowed), Level = LogLevel.Warning,
        Message = "CacheGen could not remember more than {Maximum} evictions that Redis did not confirm; this instance reads nothing from Redis until {Until:O}, when every entry that may have missed one has expired")]
    public static partial void PendingEvictionsOverflowed(ILogger logger, int maximum, DateTimeOffset until);

    [LoggerMessage(EventId = CacheGenLogEvents.GenerationRolledBack, EventName = nameof(CacheGenLogEvents.GenerationRolledBack), Level = LogLevel.Warning,
        Message = "CacheGen read a generation for '{Name}' lower than one it had seen: Redis lost writes (a restart from an older snapshot or AOF, or a failover to a replica that lagged). The generation was raised past it, so entries from before are misses")]
    public static partial void GenerationRolledBack(ILogger logger, string name);

    [LoggerMessage(EventId = CacheGenLogEvents.KeyEvictionsReapplied, EventName = nameof(CacheGenLogEvents.KeyEvictionsReapplied), Level = LogLevel.Information,
        Message = "CacheGen's Redis connection dropped: the {Count} key evictions it made within the longest entry lifetime are made again before those keys are read from Redis (a server restarted from an older snapshot may have lost them)")]
    public static partial void KeyEvictionsReapplied(ILogger logger, int count);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisNotConnectedAtStart, EventName = nameof(CacheGenLogEvents.RedisNotConnectedAtStart), Level = LogLevel.Warning,
        Message = "CacheGen could not connect to Redis at {EndPoints} when it started; calls fall through to the data while the client keeps trying")]
    public static partial void RedisNotConnectedAtStart(ILogger logger, string endPoints, Exception exception);

    [LoggerMessage(EventId = CacheGenLogEvents.EntrySpansClusterSlots, EventName = nameof(CacheGenLogEvents.EntrySpansClusterSlots), Level = LogLevel.Warning,
        Message = "CacheGen keeps '{Key}' in-process only: on this Redis Cluster its key and the generations of its tags ({Tags}) fall in different hash slots, so no script can read or write them together. Start the key with '{{tag}}' and give an entry only tags that hash to one slot to store it in Redis (logged once)")]
    public static partial void EntrySpansClusterSlots(ILogger logger, string key, string tags);

    [LoggerMessage(EventId = CacheGenLogEvents.LocalHit, EventName = nameof(CacheGenLogEvents.LocalHit), Level = LogLevel.Debug,
        Message = "CacheGen hit '{Key}' in-process")]
    public static partial void LocalHit(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.RedisHit, EventName = nameof(CacheGenLogEvents.RedisHit), Level = LogLevel.Debug,
        Message = "CacheGen hit '{Key}' in Redis")]
    public static partial void RedisHit(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.Miss, EventName = nameof(CacheGenLogEvents.Miss), Level = LogLevel.Debug,
        Message = "CacheGen missed '{Key}' and runs the data call")]
    public static partial void Miss(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.KeyEvicted, EventName = nameof(CacheGenLogEvents.KeyEvicted), Level = LogLevel.Debug,
        Message = "CacheGen evicted '{Key}'")]
    public static partial void KeyEvicted(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.TagEvicted, EventName = nameof(CacheGenLogEvents.TagEvicted), Level = LogLevel.Debug,
        Message = "CacheGen evicted every entry tagged '{Tag}'")]
    public static partial void TagEvicted(ILogger logger, string tag);

    [LoggerMessage(EventId = CacheGenLogEvents.RefreshStarted, EventName = nameof(CacheGenLogEvents.RefreshStarted), Level = LogLevel.Debug,
        Message = "CacheGen started refreshing '{Key}' ahead of its expiry")]
    public static partial void RefreshStarted(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.RefreshSkipped, EventName = nameof(CacheGenLogEvents.RefreshSkipped), Level = LogLevel.Debug,
        Message = "CacheGen did not refresh '{Key}' ahead of its expiry: another instance or fill is refreshing it")]
    public static partial void RefreshSkipped(ILogger logger, string key);

    [LoggerMessage(EventId = CacheGenLogEvents.RefreshFailed, EventName = nameof(CacheGenLogEvents.RefreshFailed), Level = LogLevel.Warning,
        Message = "CacheGen could not refresh '{Key}' ahead of its expiry; the current value is served until it expires")]
    public static partial void RefreshFailed(ILogger logger, string key, Exception exception);
}

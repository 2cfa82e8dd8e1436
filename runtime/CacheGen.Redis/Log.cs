using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Every log line CacheGen writes, with stable event ids (filter or alert on them). Values are never logged; keys
/// are, since they name what was cached.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "InProcessOnly", Level = LogLevel.Information,
        Message = "CacheGen is running on the in-process cache only (no Redis configured)")]
    public static partial void InProcessOnly(ILogger logger);

    // The configuration is logged without its password (ConfigurationOptions.ToString(includePassword: false)).
    [LoggerMessage(EventId = 2, EventName = "RedisConfigured", Level = LogLevel.Information,
        Message = "CacheGen is using Redis at {Configuration} with key prefix '{KeyPrefix}'")]
    public static partial void RedisConfigured(ILogger logger, string configuration, string keyPrefix);

    [LoggerMessage(EventId = 3, EventName = "RedisConnectionFailed", Level = LogLevel.Warning,
        Message = "CacheGen lost its Redis {ConnectionType} connection to {EndPoint} ({FailureType}); calls fall through to the data until it is back")]
    public static partial void RedisConnectionFailed(ILogger logger, string? endPoint, ConnectionType connectionType, ConnectionFailureType failureType);

    [LoggerMessage(EventId = 4, EventName = "RedisConnectionRestored", Level = LogLevel.Information,
        Message = "CacheGen's Redis {ConnectionType} connection to {EndPoint} is back")]
    public static partial void RedisConnectionRestored(ILogger logger, string? endPoint, ConnectionType connectionType);

    [LoggerMessage(EventId = 5, EventName = "RedisConnectFailed", Level = LogLevel.Error,
        Message = "CacheGen could not set up its Redis connection; it runs on the in-process cache only")]
    public static partial void RedisConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 10, EventName = "RedisReadFailed", Level = LogLevel.Warning,
        Message = "CacheGen could not read '{Key}' from Redis; treating it as a miss")]
    public static partial void RedisReadFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 11, EventName = "RedisWriteFailed", Level = LogLevel.Error,
        Message = "CacheGen could not write '{Key}' to Redis; the value was returned but not stored there")]
    public static partial void RedisWriteFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 12, EventName = "RedisEvictFailed", Level = LogLevel.Error,
        Message = "CacheGen could not evict {Kind} '{Name}' in Redis; other instances may serve it until it expires")]
    public static partial void RedisEvictFailed(ILogger logger, string kind, string name, Exception exception);

    [LoggerMessage(EventId = 13, EventName = "BackplanePublishFailed", Level = LogLevel.Warning,
        Message = "CacheGen could not publish an eviction to other instances; their in-process copies expire by themselves")]
    public static partial void BackplanePublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 14, EventName = "BackplaneSubscribeFailed", Level = LogLevel.Warning,
        Message = "CacheGen could not subscribe to evictions from other instances; in-process copies expire by themselves")]
    public static partial void BackplaneSubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 15, EventName = "LocalCacheFlushed", Level = LogLevel.Information,
        Message = "CacheGen flushed its in-process cache after the Redis {ConnectionType} connection came back (evictions may have been missed)")]
    public static partial void LocalCacheFlushed(ILogger logger, ConnectionType connectionType);

    [LoggerMessage(EventId = 16, EventName = "LocalCacheFlushedOnDisconnect", Level = LogLevel.Information,
        Message = "CacheGen flushed its in-process cache: the Redis {ConnectionType} connection dropped, so evictions from other instances may be missed until it is back")]
    public static partial void LocalCacheFlushedOnDisconnect(ILogger logger, ConnectionType connectionType);

    [LoggerMessage(EventId = 17, EventName = "BackplaneResubscribed", Level = LogLevel.Information,
        Message = "CacheGen heard its own probe on the eviction channel again: the subscription is back, and the in-process cache was flushed once more")]
    public static partial void BackplaneResubscribed(ILogger logger);

    [LoggerMessage(EventId = 18, EventName = "DistributedLockWaitTimedOut", Level = LogLevel.Debug,
        Message = "CacheGen waited {Milliseconds} ms for another instance to fill '{Key}' and now runs the data call itself")]
    public static partial void DistributedLockWaitTimedOut(ILogger logger, string key, long milliseconds);

    [LoggerMessage(EventId = 20, EventName = "CorruptEntry", Level = LogLevel.Warning,
        Message = "CacheGen found unreadable bytes under '{Key}' in Redis ({Problem}); treating it as a miss and replacing it")]
    public static partial void CorruptEntry(ILogger logger, string key, string problem, Exception? exception = null);

    [LoggerMessage(EventId = 21, EventName = "StaleSetRejected", Level = LogLevel.Debug,
        Message = "CacheGen did not store '{Key}' in Redis: it was written or evicted while the value was computed (stale set rejected)")]
    public static partial void StaleSetRejected(ILogger logger, string key);

    [LoggerMessage(EventId = 22, EventName = "SerializeFailed", Level = LogLevel.Error,
        Message = "CacheGen could not serialize the value of '{Key}' as {Type}; it was returned but not cached")]
    public static partial void SerializeFailed(ILogger logger, string key, string type, Exception exception);

    [LoggerMessage(EventId = 23, EventName = "PayloadTooLarge", Level = LogLevel.Warning,
        Message = "CacheGen did not cache '{Key}': its value is {Bytes} bytes serialized, more than MaximumPayloadBytes ({Maximum}); it was returned uncached")]
    public static partial void PayloadTooLarge(ILogger logger, string key, long bytes, int maximum);

    [LoggerMessage(EventId = 45, EventName = "EntrySpansClusterSlots", Level = LogLevel.Warning,
        Message = "CacheGen keeps '{Key}' in-process only: on this Redis Cluster its key and the generations of its tags ({Tags}) fall in different hash slots, so no script can read or write them together. Start the key with '{{tag}}' and give an entry only tags that hash to one slot to store it in Redis (logged once)")]
    public static partial void EntrySpansClusterSlots(ILogger logger, string key, string tags);

    [LoggerMessage(EventId = 40, EventName = "RedisNotConnectedAtStart", Level = LogLevel.Warning,
        Message = "CacheGen could not connect to Redis at {EndPoints} when it started; calls fall through to the data while the client keeps trying")]
    public static partial void RedisNotConnectedAtStart(ILogger logger, string endPoints, Exception exception);
}

namespace CacheGen.Redis;

/// <summary>How a call through <see cref="RedisCallPolicy.RunAsync"/> ended.</summary>
internal enum CallStatus
{
    /// <summary>Redis answered; the value is the call's result.</summary>
    Answered,

    /// <summary>Not sent: the circuit breaker is open, or the call had nothing to send.</summary>
    NotSent,

    /// <summary>Failed or timed out: counted, logged, and it may have opened the breaker.</summary>
    Failed,

    /// <summary>Redis answered WRONGTYPE: a non-string under one of our keys (foreign data, not an outage).</summary>
    WrongType,
}

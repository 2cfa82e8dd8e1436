namespace CacheGen.Redis;

/// <summary>The states of <see cref="CircuitBreaker"/>.</summary>
internal enum BreakerState
{
    /// <summary>Redis is called as usual; consecutive failures are counted.</summary>
    Closed,

    /// <summary>Redis is not called at all; calls fall through at once.</summary>
    Open,

    /// <summary>Still not called by requests: one background probe is finding out whether Redis answers.</summary>
    HalfOpen,
}

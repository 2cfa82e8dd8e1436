namespace CacheGen.Redis;

/// <summary>
/// Counts consecutive Redis failures and decides whether a call may go to Redis. Requests never probe: while the
/// breaker is not closed every call short-circuits, and only <see cref="RedisStore"/>'s recovery loop moves it through
/// half-open back to closed, so no request ever pays for a probe of a dead Redis. The hot path is one volatile read;
/// the lock is taken only on state changes. The methods that change the state say so, so the caller logs each change
/// exactly once.
/// </summary>
internal sealed class CircuitBreaker(int failuresToOpen)
{
    private readonly Lock _gate = new();
    private volatile BreakerState _state = BreakerState.Closed;
    private int _consecutiveFailures;

    public BreakerState State => _state;

    /// <summary>Whether a call may go to Redis now.</summary>
    public bool AllowsCalls => _state == BreakerState.Closed;

    /// <summary>A call that Redis answered: the failure count starts again.</summary>
    public void RecordSuccess()
    {
        // Skip the write when there is nothing to reset: every successful call comes through here.
        if (Volatile.Read(ref _consecutiveFailures) != 0)
            Volatile.Write(ref _consecutiveFailures, 0);
    }

    /// <summary>A call that failed or timed out. Returns true if this one opened the breaker.</summary>
    public bool RecordFailure() =>
        Interlocked.Increment(ref _consecutiveFailures) >= failuresToOpen && _state == BreakerState.Closed &&
        TryMove(BreakerState.Closed, BreakerState.Open);

    /// <summary>Open to half-open, for the probe. Returns false if the breaker was not open.</summary>
    public bool TryBeginProbe() => TryMove(BreakerState.Open, BreakerState.HalfOpen);

    /// <summary>The probe failed: half-open back to open.</summary>
    public void ProbeFailed() => TryMove(BreakerState.HalfOpen, BreakerState.Open);

    /// <summary>The probe succeeded. Returns true if this closed the breaker.</summary>
    public bool TryClose()
    {
        lock (_gate)
        {
            if (_state == BreakerState.Closed)
                return false;
            _consecutiveFailures = 0;
            _state = BreakerState.Closed;
            return true;
        }
    }

    /// <summary>The one way the state changes outside closing: only from <paramref name="from"/>, so exactly one caller sees each change.</summary>
    private bool TryMove(BreakerState from, BreakerState to)
    {
        lock (_gate)
        {
            if (_state != from)
                return false;
            _state = to;
            return true;
        }
    }
}

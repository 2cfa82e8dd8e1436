using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

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

/// <summary>What a call through the policy returned.</summary>
internal readonly record struct CallResult<T>(CallStatus Status, T Value, Exception? Failure = null)
{
    public bool Answered => Status == CallStatus.Answered;
}

/// <summary>The failure log line a call writes; evictions log their own (they are deferred, not lost).</summary>
internal enum CallKind
{
    Read,
    Write,
    Evict,
    Publish,
}

/// <summary>
/// The one way a request reaches Redis: admitted by the circuit breaker, bounded by the Redis timeout, its outcome
/// recorded (a success closes nothing, a failure counts and may open the breaker, logged once here) and logged. Nothing
/// but the caller's own cancellation escapes. The recovery loop drives the breaker back through half-open.
/// </summary>
internal sealed class RedisCallPolicy
{
    private readonly RedisConnection _connection;
    private readonly CircuitBreaker _breaker;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _breakDuration;
    private readonly int _failuresToOpen;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private long _openedAt;

    public RedisCallPolicy(RedisConnection connection, CacheGenOptions options, ILogger logger, CacheMetrics metrics)
    {
        _connection = connection;
        _timeout = options.RedisTimeout;
        _breakDuration = options.CircuitBreakerDuration;
        _failuresToOpen = options.CircuitBreakerFailures;
        _breaker = new CircuitBreaker(options.CircuitBreakerFailures);
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>Raised once each time the breaker opens (the recovery loop starts probing).</summary>
    public Action? BreakerOpened { get; set; }

    public BreakerState BreakerState => _breaker.State;

    public bool AllowsCalls => _breaker.AllowsCalls;

    public TimeSpan BreakDuration => _breakDuration;

    /// <summary>The bound on one Redis call (<see cref="CacheGenOptions.RedisTimeout"/>).</summary>
    public TimeSpan Timeout => _timeout;

    /// <summary>
    /// Runs <paramref name="call"/> on the database under the policy. The call may return null when it has nothing to
    /// send (then nothing is recorded). The caller's cancellation propagates; every other exception is an outcome.
    /// <paramref name="bound"/> replaces the Redis timeout for a call that is many commands (a clear on a cluster).
    /// </summary>
    public async ValueTask<CallResult<T>> RunAsync<TState, T>(CallKind kind, string name, TState state,
        Func<IDatabase, TState, CancellationToken, Task<T>?> call, CancellationToken cancellationToken, TimeSpan? bound = null)
    {
        if (!Admit())
            return new(CallStatus.NotSent, default!);
        try
        {
            IDatabase database = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (call(database, state, cancellationToken) is not { } pending)
                return new(CallStatus.NotSent, default!);
            // Bounded here rather than through BoundedAsync: one state machine less on every call, a hit included.
            T value;
            try
            {
                value = await pending.WaitAsync(bound ?? _timeout, cancellationToken).ConfigureAwait(false);
            }
            catch when (!pending.IsCompleted)
            {
                ObserveAbandoned(pending);
                throw;
            }
            _breaker.RecordSuccess();
            return new(CallStatus.Answered, value);
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            _breaker.RecordSuccess();
            return new(CallStatus.WrongType, default!, e);
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            Failed(e);
            switch (kind)
            {
                case CallKind.Read:
                    Log.RedisReadFailed(_logger, name, e);
                    break;
                case CallKind.Write:
                    Log.RedisWriteFailed(_logger, name, e);
                    break;
                case CallKind.Publish:
                    Log.BackplanePublishFailed(_logger, e);
                    break;
            }
            return new(CallStatus.Failed, default!, e);
        }
    }

    /// <summary>Bounds <paramref name="pending"/> by the Redis timeout; a call abandoned by the bound has its fault observed.</summary>
    public async Task<TResult> BoundedAsync<TResult>(Task<TResult> pending, CancellationToken cancellationToken, TimeSpan? bound = null)
    {
        try
        {
            return await pending.WaitAsync(bound ?? _timeout, cancellationToken).ConfigureAwait(false);
        }
        catch when (!pending.IsCompleted)
        {
            ObserveAbandoned(pending);
            throw;
        }
    }

    /// <summary>A call given up by the bound still completes later: observe its fault so it is not reported as unobserved.</summary>
    private static void ObserveAbandoned(Task pending) =>
        _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>Whether a call may go to Redis; counts the ones the open breaker stops.</summary>
    public bool Admit()
    {
        if (_breaker.AllowsCalls)
            return true;
        _metrics.ShortCircuit();
        return false;
    }

    /// <summary>A call that failed or timed out: counted, and it may open the breaker (logged once, here).</summary>
    public void Failed(Exception failure)
    {
        _metrics.RedisError();
        if (!_breaker.RecordFailure())
            return;
        Volatile.Write(ref _openedAt, Stopwatch.GetTimestamp());
        _metrics.BreakerTransition(BreakerState.Open);
        Log.CircuitBreakerOpened(_logger, _failuresToOpen, (long)_breakDuration.TotalMilliseconds, failure);
        BreakerOpened?.Invoke();
    }

    /// <summary>Moves an open breaker to half-open for one probe; says whether this caller probes.</summary>
    public bool TryBeginProbe()
    {
        if (!_breaker.TryBeginProbe())
            return false;
        _metrics.BreakerTransition(BreakerState.HalfOpen);
        return true;
    }

    public void ProbeFailed(Exception failure)
    {
        _breaker.ProbeFailed();
        _metrics.BreakerTransition(BreakerState.Open);
        Log.CircuitBreakerProbeFailed(_logger, failure);
    }

    public void ProbeSucceeded()
    {
        if (!_breaker.TryClose())
            return;
        _metrics.BreakerTransition(BreakerState.Closed);
        Log.CircuitBreakerClosed(_logger, (long)Stopwatch.GetElapsedTime(Volatile.Read(ref _openedAt)).TotalMilliseconds);
    }

    private static bool IsFailure(Exception e, CancellationToken cancellationToken) =>
        !(e is OperationCanceledException && cancellationToken.IsCancellationRequested);

    public static bool IsWrongType(RedisServerException e) => e.Message.Contains("WRONGTYPE", StringComparison.Ordinal);
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// The one way a request reaches Redis: admitted by the circuit breaker, bounded by the Redis timeout (and given up
/// sooner when Redis has answered nothing for the stall timeout), its outcome
/// recorded (a success closes nothing, a failure counts and may open the breaker, logged once here) and logged. Nothing
/// but the caller's own cancellation escapes. The recovery loop drives the breaker back through half-open.
/// </summary>
internal sealed class RedisCallPolicy
{
    private readonly RedisConnection _connection;
    private readonly CircuitBreaker _breaker;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _stallTimeout;
    private readonly long _stallTicks;
    private readonly TimeSpan _breakDuration;
    private readonly int _failuresToOpen;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private long _openedAt;
    // Stopwatch timestamps: the latest answer from Redis, and from when silence counts again after a late wake-up.
    private long _lastAnswerAt;
    private long _countsSilenceFrom;

    public RedisCallPolicy(RedisConnection connection, CacheGenOptions options, ILogger logger, CacheMetrics metrics)
    {
        _connection = connection;
        _timeout = options.RedisTimeout;
        _stallTimeout = options.RedisStallTimeout;
        _stallTicks = (long)(_stallTimeout.TotalSeconds * Stopwatch.Frequency);
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
    /// A call no caller waits for (<paramref name="callerWaits"/> false: a fill's write after its callers were answered)
    /// is bounded by the client's own timeout, which is the Redis timeout, with no timer of its own.
    /// </summary>
    public async ValueTask<CallResult<T>> RunAsync<TState, T>(CallKind kind, string name, TState state,
        Func<IDatabase, TState, CancellationToken, Task<T>?> call, CancellationToken cancellationToken, TimeSpan? bound = null,
        bool callerWaits = true)
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
            long sentAt = Stopwatch.GetTimestamp();
            try
            {
                while (callerWaits && !pending.IsCompleted)
                {
                    long wakeAt = NextLook(sentAt, bound);
                    await ((Task)pending).WaitAsync(Until(wakeAt), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    Woke(wakeAt, cancellationToken);
                }
                value = await pending.ConfigureAwait(false);
            }
            catch when (!pending.IsCompleted)
            {
                ObserveAbandoned(pending);
                throw;
            }
            Answered();
            return new(CallStatus.Answered, value);
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            Answered();
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

    /// <summary>
    /// Bounds <paramref name="pending"/> like <see cref="RunAsync"/> (the Redis timeout, or sooner the stall timeout);
    /// a call abandoned by the bound has its fault observed. Leaves the breaker alone: the caller records the outcome.
    /// </summary>
    public async Task<TResult> BoundedAsync<TResult>(Task<TResult> pending, CancellationToken cancellationToken, TimeSpan? bound = null)
    {
        TResult value;
        long sentAt = Stopwatch.GetTimestamp();
        try
        {
            while (!pending.IsCompleted)
            {
                long wakeAt = NextLook(sentAt, bound);
                await ((Task)pending).WaitAsync(Until(wakeAt), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                Woke(wakeAt, cancellationToken);
            }
            value = await pending.ConfigureAwait(false);
        }
        catch when (!pending.IsCompleted)
        {
            ObserveAbandoned(pending);
            throw;
        }
        Heard();
        return value;
    }

    /// <summary>
    /// When a call sent at <paramref name="sentAt"/> that has no answer yet is to be looked at again: at its bound, or
    /// when Redis will have answered nothing, to any call, for the stall timeout, whichever comes first. Throws
    /// <see cref="TimeoutException"/> if that moment has passed: the call is given up. A frozen or unreachable Redis
    /// answers nothing; a busy one (large values, a long queue) keeps answering, so its calls wait up to their bound.
    /// </summary>
    private long NextLook(long sentAt, TimeSpan? bound)
    {
        long now = Stopwatch.GetTimestamp();
        TimeSpan limit = bound ?? _timeout;
        long deadline = sentAt + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        if (now >= deadline)
            throw new TimeoutException($"Redis did not answer within {(long)limit.TotalMilliseconds} ms.");
        long silentSince = Math.Max(sentAt, Math.Max(Volatile.Read(ref _lastAnswerAt), Volatile.Read(ref _countsSilenceFrom)));
        long stallsAt = silentSince + _stallTicks;
        if (now >= stallsAt)
            throw new TimeoutException($"Redis answered nothing for {(long)_stallTimeout.TotalMilliseconds} ms: frozen or unreachable.");
        return Math.Min(deadline, stallsAt);
    }

    private static TimeSpan Until(long timestamp) => Stopwatch.GetElapsedTime(Math.Min(Stopwatch.GetTimestamp(), timestamp), timestamp);

    /// <summary>
    /// After a wait: the caller's cancellation ends it. A wait that ended much later than asked means this process was
    /// not running (CPU starvation, a GC pause): answers may have arrived that it has not processed yet, so half a
    /// stall timeout more is given before silence is blamed on Redis. A frozen Redis leaves the process idle, and its
    /// waits end on time.
    /// </summary>
    private void Woke(long wakeAt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long now = Stopwatch.GetTimestamp();
        if (now - wakeAt > _stallTicks / 2)
            AtomicMax.Raise(ref _countsSilenceFrom, now - _stallTicks / 2);
    }

    /// <summary>A request's call was answered (a value or WRONGTYPE): the breaker's count starts again.</summary>
    private void Answered()
    {
        _breaker.RecordSuccess();
        Heard();
    }

    /// <summary>Redis answered something: it is not silent.</summary>
    private void Heard() => Volatile.Write(ref _lastAnswerAt, Stopwatch.GetTimestamp());

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

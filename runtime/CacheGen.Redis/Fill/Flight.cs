using System.Threading.Tasks.Sources;

namespace CacheGen.Redis;

/// <summary>
/// A fill in progress for one key on this instance (stampede protection): the first caller starts it, concurrent
/// callers join it, and the data call runs once.
/// </summary>
/// <remarks>
/// Its gate is invalidated by an eviction or SetAsync of its key while it runs, or when another fill replaces it: its
/// result must not reach the in-process cache then.
/// </remarks>
internal abstract class Flight(string key, LocalValidity validity, long startedAt) : StoreGate
{
    public string Key { get; } = key;

    /// <summary>
    /// When the fill started (a <see cref="TimeProvider"/> timestamp). Its value was read after this, so the in-process
    /// lifetime counts from here: a copy that missed an eviction message lives at most that long after the eviction.
    /// </summary>
    public long StartedAt { get; } = startedAt;

    /// <summary>The in-process epoch and tag generations when the fill started; a later eviction makes it stale.</summary>
    public LocalValidity Validity { get; } = validity;

    /// <summary>
    /// Its callers have the fill's own result and only its Redis write is left: a later caller does not join it (it
    /// reads like after any fill: the in-process copy, else Redis, which has the write by the time it reads: one
    /// connection, commands in order). A fill answered early with an expired value (a soft timeout) is still joined.
    /// </summary>
    public bool IsWriting { get; private set; }

    public void StartedWriting() => IsWriting = true;
}

/// <summary>The outcome of a fill: the value, and its JSON when one was made (to give each joiner its own copy).</summary>
internal readonly struct FlightResult<T>(T value, byte[]? buffer, int jsonOffset)
{
    public T Value { get; } = value;

    public byte[]? Buffer { get; } = buffer;

    public int JsonOffset { get; } = jsonOffset;
}

/// <summary>
/// A fill of a <typeparamref name="T"/>. The data call gets the fill's own token, which is cancelled only when every
/// waiter has given up; a waiter whose token cancels leaves with <see cref="OperationCanceledException"/> alone. All
/// waiters get the same value, or the same exception while the caller that started the fill is still there; for a
/// mutable type, joiners get their own deserialized copy when the value was serialized, else (its type is not
/// cacheable) the very instance the fill produced. The data call runs on its starter's state (a scoped service, its
/// database context, its request's token): once that caller has left, a failure, or any cancellation, may be its
/// doing, and <see cref="FailedWithoutItsStarter"/> tells the joiners to fill again with their own.
/// </summary>
/// <remarks>
/// The caller that started the fill (the creator) waits on the flight itself, as an <see cref="IValueTaskSource{T}"/>:
/// no allocation, and its code goes on inline on the thread that answers it, one thread-pool hop less on every miss.
/// The fill answers it only where running its code inline is harmless (its Redis write already sent); joiners run on
/// the thread pool.
/// </remarks>
internal sealed class Flight<T>(string key, LocalValidity validity, long startedAt) : Flight(key, validity, startedAt), IValueTaskSource<T>
{
    // Joiners' continuations run on the thread pool, so answering them never runs their code inline.
    private readonly TaskCompletionSource<FlightResult<T>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Not disposed: it has no timer and no linked parents, and a late Leave must still be able to Cancel it.
    private readonly CancellationTokenSource _cancellation = new();

    // The creator's answer, set once: by the fill (1) or by the creator's own cancellation.
    private ManualResetValueTaskSourceCore<T> _creator;
    private int _creatorAnswered;
    private CancellationTokenRegistration _creatorCancellation;

    // The creator counts as the first waiter.
    private int _waiters = 1;
    private volatile bool _creatorLeft;
    private volatile bool _failedWithoutItsStarter;

    /// <summary>The token the fill (and the data call) runs under.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Joins unless every waiter has already left (then the fill is being cancelled and a new one is needed).</summary>
    public bool TryJoin()
    {
        int waiters = Volatile.Read(ref _waiters);
        while (waiters > 0)
        {
            int seen = Interlocked.CompareExchange(ref _waiters, waiters + 1, waiters);
            if (seen == waiters)
                return true;
            waiters = seen;
        }
        return false;
    }

    /// <summary>Answers every waiter: joiners on the thread pool, then the creator inline, on this thread.</summary>
    public void Complete(FlightResult<T> result)
    {
        _completion.TrySetResult(result);
        if (Interlocked.Exchange(ref _creatorAnswered, 1) == 0)
            _creator.SetResult(result.Value);
    }

    /// <summary>
    /// The fill failed after the caller that started it had left, or was cancelled: not an answer for the callers
    /// still waiting, who fill again with their own state (read once the wait has failed).
    /// </summary>
    public bool FailedWithoutItsStarter => _failedWithoutItsStarter;

    /// <summary>
    /// Marks a fill no caller started (a refresh ahead, on the state of a caller that has its answer and may be gone): a
    /// failure is never its joiners' answer, they fill again with their own state. Its token is cancelled by no one.
    /// </summary>
    public void RunForNoCaller() => _creatorLeft = true;

    public void Fail(Exception exception)
    {
        // Any cancellation counts, not only this fill's own token: a data call observing its starter's request token
        // may throw before that caller is seen leaving.
        _failedWithoutItsStarter = _creatorLeft || exception is OperationCanceledException;
        if (exception is OperationCanceledException && _cancellation.IsCancellationRequested)
            _completion.TrySetCanceled(_cancellation.Token);
        else
            _completion.TrySetException(exception);
        // Observed here so a fill nobody waits for any more does not raise UnobservedTaskException; waiters still get it.
        _ = _completion.Task.Exception;
        if (Interlocked.Exchange(ref _creatorAnswered, 1) == 0)
            _creator.SetException(exception);
    }

    /// <summary>The creator's wait: the very instance the fill produced, or its exception; its own token lets it leave.</summary>
    public ValueTask<T> WaitForCreatorAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled && Volatile.Read(ref _creatorAnswered) == 0)
        {
            // Dropped in GetResult, on the creator's own flow (a registration left on a long-lived token would leak).
            _creatorCancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Flight<T>)state!).CreatorCancelled(token), this);
        }
        return new ValueTask<T>(this, _creator.Version);
    }

    private void CreatorCancelled(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _creatorAnswered, 1) != 0)
            return;
        Leave(creator: true);
        _creator.SetException(new OperationCanceledException(token));
    }

    T IValueTaskSource<T>.GetResult(short token)
    {
        _creatorCancellation.Unregister();
        return _creator.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<T>.GetStatus(short token) => _creator.GetStatus(token);

    void IValueTaskSource<T>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _creator.OnCompleted(continuation, state, token, flags);

    /// <summary>A joiner's wait: its own copy of a mutable value when the fill serialized one.</summary>
    public async ValueTask<T> WaitAsync(PayloadSerializer serializer, CancellationToken cancellationToken)
    {
        Task<FlightResult<T>> completion = _completion.Task;
        FlightResult<T> result;
        if (completion.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            result = await completion.ConfigureAwait(false);
        }
        else
        {
            try
            {
                result = await completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !completion.IsCompleted)
            {
                Leave(creator: false);
                throw;
            }
        }

        if (ImmutableType<T>.Value || result.Buffer is null)
            return result.Value;
        try
        {
            return serializer.Deserialize<T>(result.Buffer, result.JsonOffset);
        }
        catch (Exception)
        {
            // The fill succeeded; its bytes just do not read back (the type passed its round-trip check on other
            // values). This joiner shares the value the fill returned rather than failing, and the type is probed again.
            serializer.RoundTripOf<T>().Reprobe();
            return result.Value;
        }
    }

    private void Leave(bool creator)
    {
        // Before the count drops: a failure from here on may come from this caller's state being torn down.
        if (creator)
            _creatorLeft = true;
        if (Interlocked.Decrement(ref _waiters) != 0)
            return;
        try
        {
            _cancellation.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the data call registered threw; the fill reports its own outcome.
        }
    }
}

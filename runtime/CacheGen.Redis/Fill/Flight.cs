namespace CacheGen.Redis;

/// <summary>
/// A fill in progress for one key on this instance (stampede protection): the first caller starts it, concurrent
/// callers join it, and the data call runs once.
/// </summary>
internal abstract class Flight(string key, LocalValidity validity, long startedAt)
{
    // Makes "not invalidated, so store in L1" one step with respect to Invalidate.
    private readonly Lock _storeGate = new();
    private volatile bool _invalidated;

    public string Key { get; } = key;

    /// <summary>
    /// When the fill started (a <see cref="TimeProvider"/> timestamp). Its value was read after this, so the in-process
    /// lifetime counts from here: a copy that missed an eviction message lives at most that long after the eviction.
    /// </summary>
    public long StartedAt { get; } = startedAt;

    /// <summary>The in-process epoch and tag generations when the fill started; a later eviction makes it stale.</summary>
    public LocalValidity Validity { get; } = validity;

    /// <summary>
    /// Set by an eviction or SetAsync of this key while the fill runs, or when another fill replaces this one: its
    /// result must not reach the in-process cache.
    /// </summary>
    public bool IsInvalidated => _invalidated;

    /// <summary>
    /// Marks the fill stale. Returns once a store that began before is done, so an evictor that marks first and then
    /// removes the key always removes what this fill stored: there is no moment after the eviction when it is served.
    /// </summary>
    public void Invalidate()
    {
        lock (_storeGate)
            _invalidated = true;
    }

    /// <summary>Stores <paramref name="entry"/> under the fill's key unless the fill was invalidated; says whether it did.</summary>
    public bool StoreUnlessInvalidated(LocalCache local, LocalEntry entry)
    {
        lock (_storeGate)
            return !_invalidated && local.Set(Key, entry);
    }
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
internal sealed class Flight<T>(string key, LocalValidity validity, long startedAt) : Flight(key, validity, startedAt)
{
    // Continuations run on the thread pool, so completing the fill never runs a waiter's code inline.
    private readonly TaskCompletionSource<FlightResult<T>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Not disposed: it has no timer and no linked parents, and a late Leave must still be able to Cancel it.
    private readonly CancellationTokenSource _cancellation = new();

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

    public void Complete(FlightResult<T> result) => _completion.TrySetResult(result);

    /// <summary>
    /// The fill failed after the caller that started it had left, or was cancelled: not an answer for the callers
    /// still waiting, who fill again with their own state (read once the wait has failed).
    /// </summary>
    public bool FailedWithoutItsStarter => _failedWithoutItsStarter;

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
    }

    /// <summary>Waits for the fill. <paramref name="creator"/> gets the very instance the fill produced.</summary>
    public async ValueTask<T> WaitAsync(bool creator, PayloadSerializer serializer, CancellationToken cancellationToken)
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
                Leave(creator);
                throw;
            }
        }

        if (creator || ImmutableType<T>.Value || result.Buffer is null)
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

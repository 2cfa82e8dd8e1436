using CacheGen.Infrastructure;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis;

// Stampede protection: one fill per key per instance (callers join a running flight), and optionally one per key
// across instances (a Redis lease that other instances wait on).
internal sealed partial class RedisHybridCache
{
    private async ValueTask<T> GetOrCreateSlowAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, CancellationToken cancellationToken, CachedMethod? method = null, Delegate? unless = null,
        Delegate? lifetime = null, Delegate? valueTags = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EntrySettings settings = Settings(options, tags, method, unless, lifetime, valueTags);

        if (!settings.RunsFactory)
            return await ReadOnlyAsync<T>(key, settings, cancellationToken).ConfigureAwait(false);

        while (true)
        {
            if (_flights.TryGetValue(key, out Flight? existing))
            {
                // Join a fill of the same type that no eviction has overtaken since it started, unless it has answered and
                // is only writing Redis (its copy is in L1, or Redis has it by the time this caller reads).
                if (existing is Flight<T> running && !running.IsWriting && !running.IsInvalidated && _local.IsCurrent(running.Validity) && running.TryJoin())
                {
                    _metrics.LocalStampedeJoin();
                    try
                    {
                        return await running.WaitAsync(_codec.Serializer, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception) when (running.FailedWithoutItsStarter && !cancellationToken.IsCancellationRequested)
                    {
                        // The caller whose state the fill ran on left, and the fill failed (its scope disposed, its
                        // token cancelled): not this caller's failure. Fill again, with this caller's own state.
                        continue;
                    }
                }
                // The replaced fill may still be running (its callers left but its data call goes on, or it reads
                // another type). An eviction only reaches the registered flight, so the replaced one is marked before
                // it stops being registered: from then on no flight outside _flights can store in L1.
                existing.Invalidate();
                var replacement = NewFlight<T>(key, settings);
                if (_flights.TryUpdate(key, replacement, existing))
                    return await StartFill(replacement, state, factory, settings, cancellationToken).ConfigureAwait(false);
                continue;
            }

            // A fill may have landed between the caller's miss and here.
            if (settings.ReadLocal && _local.TryGet(key, out T landed))
            {
                _metrics.LocalHit(CacheMetrics.RegionOf(settings.LocalTags), settings.Method);
                Log.LocalHit(_logger, key);
                return landed;
            }

            Flight<T> flight = NewFlight<T>(key, settings);
            if (_flights.TryAdd(key, flight))
                return await StartFill(flight, state, factory, settings, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the key's running fill out of the registry and invalidates it: its result no longer reaches L1 and no caller
    /// joins it (a later caller starts a fill of its own).
    /// </summary>
    private void InvalidateFill(string key)
    {
        if (_flights.TryRemove(key, out Flight? running))
            running.Invalidate();
        Hooks.AfterFillInvalidated?.Invoke(key);
    }

    // Captured before anything is read: the validity catches evictions during the fill, the time bounds its L1 lifetime.
    private Flight<T> NewFlight<T>(string key, EntrySettings settings) => new(key, _local.Capture(settings.LocalTags), _local.Now);

    private ValueTask<T> StartFill<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings, CancellationToken cancellationToken)
    {
        _ = RunFlightAsync(flight, state, factory, settings);
        return flight.WaitForCreatorAsync(cancellationToken);
    }

    /// <summary>
    /// Runs a registered flight's fill to its end and settles it: every fill (a caller's miss, a refresh ahead) ends here.
    /// Returns the fill's failure, if any, already handed to its waiters.
    /// </summary>
    private async Task<Exception?> RunFlightAsync<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings)
    {
        Exception? failure = null;
        try
        {
            Settle(flight, await FillAsync(flight, state, factory, settings).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            failure = e;
            Settle(flight, default, e);
        }
        // A refresh reports its end through RefreshFinished.
        if (!settings.IsRefresh)
            Hooks.FillFinished?.Invoke(flight.Key);
        return failure;
    }

    /// <summary>
    /// Ends a flight: takes it out of the registry (unless something replaced it there) and gives its waiters the result or
    /// the failure. Waiters answered already (a soft timeout, the answer sent before the Redis write) keep that answer.
    /// </summary>
    private void Settle<T>(Flight<T> flight, FlightResult<T> result, Exception? failure = null)
    {
        _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Key, flight));
        if (failure is null)
            flight.Complete(result);
        else
            flight.Fail(failure);
    }

    /// <summary>
    /// Cross-instance stampede protection. Takes the key's lease, or waits (bounded by
    /// <see cref="CacheGenOptions.DistributedLockTimeout"/>) for the holder's value to appear in Redis. Every attempt
    /// re-reads the entry after trying the lease, so a holder that wrote and released in between is seen rather than
    /// duplicated. Ends with a hit, the lease, or (timed out, Redis failing) permission to run the data call anyway.
    /// </summary>
    private async Task<LeaseOutcome<T>> AcquireOrWaitAsync<T>(string key, string[] tags, RedisRead read, CancellationToken token)
    {
        string leaseToken = Guid.NewGuid().ToString("N");
        TimeSpan timeout = _options.DistributedLockTimeout;
        long startedWaiting = Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(5);
        bool waited = false;
        while (true)
        {
            bool? acquired = await _store!.TryAcquireLeaseAsync(key, leaseToken, timeout, token).ConfigureAwait(false);
            if (acquired is null)
                return new LeaseOutcome<T>(read, null);
            RedisRead again = await _store.ReadAsync(key, tags, token).ConfigureAwait(false);
            if (_codec.TryRead(key, tags, again, out T value, out int jsonOffset))
            {
                if (acquired == true)
                    await _store.ReleaseLeaseAsync(key, leaseToken).ConfigureAwait(false);
                _metrics.RedisHit(CacheMetrics.RegionOf(tags));
                Log.RedisHit(_logger, key);
                if (waited)
                    _metrics.DistributedStampedeJoin();
                return new LeaseOutcome<T>(again, null) { Hit = true, Value = value, JsonOffset = jsonOffset };
            }
            if (!again.Succeeded)
            {
                if (acquired == true)
                    await _store.ReleaseLeaseAsync(key, leaseToken).ConfigureAwait(false);
                return new LeaseOutcome<T>(again, null);
            }
            if (acquired == true)
                return new LeaseOutcome<T>(again, leaseToken);

            if (!waited)
            {
                waited = true;
                Interlocked.Increment(ref _distributedWaits);
            }
            TimeSpan elapsed = Stopwatch.GetElapsedTime(startedWaiting);
            if (elapsed >= timeout)
            {
                Log.DistributedLockWaitTimedOut(_logger, key, (long)elapsed.TotalMilliseconds);
                return new LeaseOutcome<T>(again, null);
            }
            // Short first polls (a fast holder is done in milliseconds), then at most every 100 ms.
            await Task.Delay(delay, token).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
        }
    }

    private readonly record struct LeaseOutcome<T>(RedisRead Read, string? Lease)
    {
        public bool Hit { get; init; }

        public T Value { get; init; } = default!;

        public int JsonOffset { get; init; }
    }
}

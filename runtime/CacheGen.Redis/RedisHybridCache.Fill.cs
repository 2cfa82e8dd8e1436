using System.Diagnostics;

namespace CacheGen.Redis;

// The fill: the L2 read, the data call, the guarded L2 write and the L1 store.
internal sealed partial class RedisHybridCache
{
    /// <summary>L2 read, else the data call, then the guarded L2 write and the L1 fill. Runs once per key per instance.</summary>
    private async Task<FlightResult<T>> FillAsync<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings)
    {
        string key = flight.Key;
        string[] tags = settings.Tags;
        CancellationToken token = flight.Token;

        RedisRead read = RedisRead.Failed;
        // A type whose values do not read back is neither read from Redis nor written there.
        if (_store is not null && (settings.ReadRedis || settings.WriteRedis) && _codec.IsCacheable<T>())
        {
            // Even with L2 reads off, the read supplies the generations and stamp that guard the write.
            read = await _store.ReadAsync(key, tags, token).ConfigureAwait(false);
            if (Hooks.AfterRedisRead is { } hook)
                await hook(key).ConfigureAwait(false);
            if (settings.ReadRedis && !settings.HasValueTags && _codec.TryRead(key, tags, read, out T cached, out int cachedJsonOffset))
            {
                _metrics.RedisHit(CacheMetrics.RegionOf(tags), settings.Method);
                Log.RedisHit(_logger, key);
                StoreLocal(flight, settings, cached, read.Value, cachedJsonOffset);
                return new FlightResult<T>(cached, read.Value, cachedJsonOffset);
            }
            if (settings.ReadRedis && settings.HasValueTags && await ReadValueTaggedAsync<T>(flight, settings, read).ConfigureAwait(false) is { } tagged)
                return tagged;
        }

        string? lease = null;
        // (Not for an entry whose tags depend on its value: the lease's wait reads the entry without them.)
        if (_options.DistributedStampedeProtection && read.Succeeded && settings.ReadRedis && settings.WriteRedis && !settings.HasValueTags)
        {
            LeaseOutcome<T> outcome = await AcquireOrWaitAsync<T>(key, tags, read, token).ConfigureAwait(false);
            if (outcome.Hit)
            {
                StoreLocal(flight, settings, outcome.Value, outcome.Read.Value, outcome.JsonOffset);
                return new FlightResult<T>(outcome.Value, outcome.Read.Value, outcome.JsonOffset);
            }
            read = outcome.Read;
            lease = outcome.Lease;
        }

        // The fail-safe's fallback, found before the data call runs: an expired value that nothing evicted.
        // (Not for a refresh: the current value is the entry it would replace, and stays anyway when the refresh fails.)
        Fallback<T>? fallback = settings.StaleFor > TimeSpan.Zero && !settings.IsRefresh ? FindFallback<T>(key, tags, read, settings) : null;
        try
        {
            Task<FlightResult<T>> compute = ComputeAndStoreAsync(flight, state, factory, settings, read, fallback);
            if (fallback is not null && settings.Timeout > TimeSpan.Zero && !compute.IsCompleted)
            {
                using var timer = new CancellationTokenSource();
                Task delay = Task.Delay(settings.Timeout, _time, timer.Token);
                if (await Task.WhenAny(compute, delay).ConfigureAwait(false) != compute)
                {
                    // Soft timeout: the callers (and those who join) get the expired value now; the data call goes on and
                    // stores its result through the guard, and the flight stays registered until then.
                    Served(settings, key, StaleReason.Timeout, exception: null);
                    flight.Complete(fallback.Result);
                }
                timer.Cancel();
            }
            return await compute.ConfigureAwait(false);
        }
        finally
        {
            // After the write, so an instance that waited on the lease finds the value once the lease is gone.
            if (lease is not null)
                await _store!.ReleaseLeaseAsync(key, lease).ConfigureAwait(false);
        }
    }

    private async Task<FlightResult<T>> ComputeAndStoreAsync<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings, RedisRead read, Fallback<T>? fallback)
    {
        string key = flight.Key;
        string[] tags = settings.Tags;
        CancellationToken token = flight.Token;

        string? region = CacheMetrics.RegionOf(tags);
        if (!settings.IsRefresh)
        {
            _metrics.Miss(region, settings.Method);
            Log.Miss(_logger, key);
        }
        T value;
        long started = Stopwatch.GetTimestamp();
        using (Activity? activity = CacheMetrics.ActivitySource.StartActivity("cachegen.fill"))
        {
            activity?.SetTag("cachegen.key", key);
            activity?.SetTag("cachegen.region", region);
            try
            {
                value = await factory(state, token).ConfigureAwait(false);
            }
            catch (Exception e) when (fallback is not null && !token.IsCancellationRequested)
            {
                // Fail-safe: the expired value instead of the exception, and for a while instead of asking again.
                activity?.SetTag("cachegen.stale_served", true);
                Served(settings, key, StaleReason.Failure, e);
                StoreThrottled(flight, settings, fallback);
                return fallback.Result;
            }
        }
        _metrics.FillDuration(Stopwatch.GetElapsedTime(started), region, settings.Method);
        return await StoreFilledAsync(flight, settings, read, value, region).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores what the data call returned as the fill's entry (unless the method rejects it), guarded by the fill's read;
    /// a single fill and each item of a batch end here.
    /// </summary>
    private Task<FlightResult<T>> StoreFilledAsync<T>(Flight<T> flight, EntrySettings settings, RedisRead read, T value, string? region)
    {
        string key = flight.Key;
        string[] tags = settings.Tags;

        // CacheNull = false, Unless, or a lifetime of zero or less (TtlFrom): every caller gets the result, no cache keeps
        // it (joiners still get their own copy). Else the value's own lifetime (TtlFrom, jitter).
        EntrySettings? storing = settings.Rejects(value) ? null : ForStoring(settings, value);
        if (storing is null)
        {
            byte[]? copy = _codec.TrySerialize(key, value, 0, 0, out int copyOffset);
            var refused = new FlightResult<T>(value, copy, copyOffset);
            return settings.IsRefresh ? EvictRefusedAsync(key, refused) : Task.FromResult(refused);
        }
        settings = storing;
        if (settings.HasValueTags)
            return StoreValueTaggedAsync(flight, settings, read, value);

        // Serialize once: the same bytes go to Redis, to L1 (whose byte budget counts them) and to joiners' copies of a
        // mutable value. No bytes (too large, not serializable, or of a type that does not read back): returned, not cached.
        bool writeRedis = settings.WriteRedis && read.Succeeded;
        byte[]? buffer = _codec.TrySerialize(key, value, writeRedis ? tags.Length : 0, _codec.ExpiryFor(settings.Expiration), out int jsonOffset);
        var result = new FlightResult<T>(value, buffer, jsonOffset);
        if (!writeRedis || buffer is null)
        {
            StoreLocal(flight, settings, value, buffer, jsonOffset);
            return Task.FromResult(result);
        }
        return AnswerThenWriteAsync(flight, settings, read, result, region);
    }

    /// <summary>
    /// Stores the in-process copy, sends the guarded write, answers the callers, then waits for Redis: what Redis says
    /// changes who keeps the value, never what the callers get. The next call on this instance hits the copy (or reads
    /// Redis behind the write: one connection, commands in order); other instances find the entry once the write lands.
    /// </summary>
    private async Task<FlightResult<T>> AnswerThenWriteAsync<T>(Flight<T> flight, EntrySettings settings, RedisRead read, FlightResult<T> result,
        string? region)
    {
        string key = flight.Key;
        byte[] buffer = result.Buffer!;
        // Counted before the copy is visible and until the fill has left the registry: a test or Dispose that waits
        // for no pending write finds the fill done in every respect.
        Interlocked.Increment(ref _pendingWrites);
        try
        {
            LocalEntry? stored = StoreLocal(flight, settings, result.Value, buffer, result.JsonOffset);
            Envelope.SetGenerations(buffer, read.Generations);
            // Sent before the answer: the caller that started the fill goes on inline, on this thread, while Redis works.
            ValueTask<bool?> writing = _store!.GuardedWriteAsync(key, settings.Tags, read, buffer, settings.RedisLifetime, flight.Token, callerWaits: false);
            flight.StartedWriting();
            flight.Complete(result);
            if (await writing.ConfigureAwait(false) == false)
            {
                // Redis saw an eviction or a newer write since the read (perhaps from an instance whose message this one
                // missed): no cache keeps the value. The in-process copy goes unless something newer has replaced it.
                _metrics.StaleSetRejected(region);
                Log.StaleSetRejected(_logger, key);
                if (stored is not null)
                    _local.RemoveExact(key, stored);
            }
            // Out of the registry as soon as the write is done, before the lease is released: a caller from here on reads
            // the stored value instead of replacing this flight with a fill of its own. (Settle finds it gone.)
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _pendingWrites);
        }
    }

    /// <summary>Fills L1 unless the key or one of its tags was evicted since the fill started; returns the entry it stored.</summary>
    private LocalEntry? StoreLocal<T>(Flight flight, EntrySettings settings, T value, byte[]? buffer, int jsonOffset)
    {
        if (!settings.WriteLocal || flight.IsInvalidated)
            return null;
        // Atomic with the eviction's mark: stored before it (the evictor removes it next) or not at all.
        if (NewLocalEntry(settings, flight.Validity, value, buffer, jsonOffset, flight.StartedAt) is { } entry && flight.StoreUnlessInvalidated(_local, flight.Key, entry))
            return entry;
        return null;
    }

    private LocalEntry? NewLocalEntry<T>(EntrySettings settings, LocalValidity validity, T value, byte[]? buffer, int jsonOffset, long readAt)
    {
        // Without bytes the value was not serializable or too large: not cached.
        if (buffer is null)
            return null;
        // A copy never outlives its entry: a value read from Redis may have little of its lifetime left.
        TimeSpan lifetime = settings.LocalExpiration;
        long entryExpiresAt = Envelope.GetExpiry(buffer, jsonOffset);
        if (entryExpiresAt != 0)
        {
            var remaining = TimeSpan.FromMilliseconds(Math.Max(0, entryExpiresAt - _codec.UtcNowMilliseconds));
            if (remaining < lifetime)
                lifetime = remaining;
        }
        // A fail-safe method's copy is kept for its stale window after that, served only when the data call fails.
        long freshUntil = _local.ExpiryFor(lifetime, readAt);
        long expiresAt = settings.StaleFor > TimeSpan.Zero ? _local.ExpiryFor(lifetime + settings.StaleFor, readAt) : freshUntil;
        LocalEntry entry = ImmutableType<T>.Value
            ? new LocalEntry<T>(value, buffer.Length, expiresAt, validity, freshUntil)
            : ImmutableType<T>.ReadOnlyCopy is { } readOnlyCopy
                ? new LocalEntry<T>(readOnlyCopy(value), buffer.Length, expiresAt, validity, freshUntil)
                : new LocalEntry(buffer, jsonOffset, buffer.Length, expiresAt, validity, freshUntil);
        if (settings.RefreshAheadPercent > 0)
            PlanRefresh(entry, settings, entryExpiresAt);
        return entry;
    }

    /// <summary>
    /// The expired value a fail-safe method may serve: from Redis (shared by every instance) if it has one within the
    /// stale window, else this instance's own copy. Only generations that are still current count: never an evicted value.
    /// </summary>
    private Fallback<T>? FindFallback<T>(string key, string[] tags, RedisRead read, EntrySettings settings)
    {
        if (read.Succeeded && _codec.TryReadStale(key, tags, read, settings.StaleFor, out T value, out int jsonOffset))
        {
            long expiredAt = Envelope.GetExpiry(read.Value!, jsonOffset);
            var left = TimeSpan.FromMilliseconds(Math.Max(0, expiredAt + settings.StaleFor.TotalMilliseconds - _codec.UtcNowMilliseconds));
            return new Fallback<T>(new FlightResult<T>(value, read.Value, jsonOffset), read.Value!.Length, _local.ExpiryFor(left, _local.Now));
        }
        if (_local.TryGetStale(key, out T local, out LocalEntry? entry))
            return new Fallback<T>(new FlightResult<T>(local, entry.Buffer, entry.JsonOffset), entry.Size, entry.ExpiresAt) { Source = entry };
        return null;
    }

    /// <summary>
    /// After serving the fallback for a failure, keeps it in-process as a hit for <see cref="CacheGenOptions.FailSafeThrottle"/>
    /// (never past its stale window), so the failing data call is not asked on every request. Not in Redis. A fallback
    /// found in-process is kept only in place of the very entry it came from: a write or an eviction may have taken this
    /// fill's key out of the registry just before the fill registered, so the fill's own gate never closed, and then
    /// replaced or removed that entry; it wins.
    /// </summary>
    private void StoreThrottled<T>(Flight<T> flight, EntrySettings settings, Fallback<T> fallback)
    {
        if (!settings.WriteLocal || flight.IsInvalidated || _options.FailSafeThrottle <= TimeSpan.Zero)
            return;
        long freshUntil = Math.Min(_local.ExpiryFor(_options.FailSafeThrottle, _local.Now), fallback.KeepUntil);
        FlightResult<T> result = fallback.Result;
        LocalEntry entry = result.Buffer is { } buffer && !ImmutableType<T>.Value
            ? new LocalEntry(buffer, result.JsonOffset, fallback.Size, fallback.KeepUntil, flight.Validity, freshUntil)
            : new LocalEntry<T>(result.Value, fallback.Size, fallback.KeepUntil, flight.Validity, freshUntil);
        if (fallback.Source is { } source)
            flight.ReplaceUnlessInvalidated(_local, flight.Key, source, entry);
        else
            flight.StoreUnlessInvalidated(_local, flight.Key, entry);
    }

    /// <summary>Counts a fallback served, and logs it at most once a minute per key.</summary>
    private void Served(EntrySettings settings, string key, StaleReason reason, Exception? exception)
    {
        string reasonText = reason == StaleReason.Failure ? "failure" : "timeout";
        _metrics.StaleServed(CacheMetrics.RegionOf(settings.LocalTags), settings.Method, reasonText);
        if (_staleLogged.ShouldLog(key, _local.Now, _local.DurationOf(TimeSpan.FromMinutes(1))))
            Log.StaleServed(_logger, key, reasonText, exception);
    }

    private enum StaleReason
    {
        Failure,
        Timeout,
    }

    /// <summary>
    /// An expired value a fail-safe method may serve, as a fill result, with its size and how long it may still be kept
    /// (<see cref="LocalCache.Now"/> units: the end of its stale window); <see cref="Source"/> is the in-process entry it
    /// was found in, if it came from there rather than from Redis.
    /// </summary>
    private sealed record Fallback<T>(FlightResult<T> Result, long Size, long KeepUntil)
    {
        public LocalEntry? Source { get; init; }
    }

    /// <summary>DisableUnderlyingData: L1, then L2, else <c>default</c>; no fill, nothing stored.</summary>
    private async ValueTask<T> ReadOnlyAsync<T>(string key, EntrySettings settings, CancellationToken cancellationToken)
    {
        if (_store is null || !settings.ReadRedis)
            return default!;
        RedisRead read = await _store.ReadAsync(key, settings.Tags, cancellationToken).ConfigureAwait(false);
        if (!_codec.TryRead(key, settings.Tags, read, out T value, out _))
            return default!;
        _metrics.RedisHit(CacheMetrics.RegionOf(settings.Tags), settings.Method);
        Log.RedisHit(_logger, key);
        return value;
    }
}

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
            if (settings.ReadRedis && _codec.TryRead(key, tags, read, out T cached, out int cachedJsonOffset))
            {
                _metrics.RedisHit();
                Log.RedisHit(_logger, key);
                StoreLocal(flight, settings, cached, read.Value, cachedJsonOffset);
                return new FlightResult<T>(cached, read.Value, cachedJsonOffset);
            }
        }

        string? lease = null;
        if (_options.DistributedStampedeProtection && read.Succeeded && settings.ReadRedis && settings.WriteRedis)
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

        try
        {
            return await ComputeAndStoreAsync(flight, state, factory, settings, read).ConfigureAwait(false);
        }
        finally
        {
            // After the write, so an instance that waited on the lease finds the value once the lease is gone.
            if (lease is not null)
                await _store!.ReleaseLeaseAsync(key, lease).ConfigureAwait(false);
        }
    }

    private async Task<FlightResult<T>> ComputeAndStoreAsync<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings, RedisRead read)
    {
        string key = flight.Key;
        string[] tags = settings.Tags;
        CancellationToken token = flight.Token;

        _metrics.Miss();
        Log.Miss(_logger, key);
        T value;
        long started = Stopwatch.GetTimestamp();
        using (Activity? activity = CacheMetrics.ActivitySource.StartActivity("cachegen.fill"))
        {
            activity?.SetTag("cachegen.key", key);
            value = await factory(state, token).ConfigureAwait(false);
        }
        _metrics.FillDuration(Stopwatch.GetElapsedTime(started));

        // Serialize once: the same bytes go to Redis, to L1 (whose byte budget counts them) and to joiners' copies of a
        // mutable value. No bytes (too large, not serializable, or of a type that does not read back): returned, not cached.
        bool writeRedis = settings.WriteRedis && read.Succeeded;
        byte[]? buffer = _codec.TrySerialize(key, value, writeRedis ? tags.Length : 0, _codec.ExpiryFor(settings.Expiration), out int jsonOffset);

        if (writeRedis && buffer is not null)
        {
            Envelope.SetGenerations(buffer, read.Generations);
            bool? written = await _store!.GuardedWriteAsync(key, tags, read, buffer, settings.Expiration, token).ConfigureAwait(false);
            if (written == false)
            {
                // Redis saw an eviction or a newer write since the read (perhaps from an instance whose message this
                // one missed): the caller gets the value, but no cache keeps it, L1 included.
                _metrics.StaleSetRejected();
                Log.StaleSetRejected(_logger, key);
                return new FlightResult<T>(value, buffer, jsonOffset);
            }
        }

        StoreLocal(flight, settings, value, buffer, jsonOffset);
        return new FlightResult<T>(value, buffer, jsonOffset);
    }

    /// <summary>Fills L1 unless the key or one of its tags was evicted since the fill started.</summary>
    private void StoreLocal<T>(Flight flight, EntrySettings settings, T value, byte[]? buffer, int jsonOffset)
    {
        if (!settings.WriteLocal || flight.IsInvalidated)
            return;
        // Atomic with the eviction's mark: stored before it (the evictor removes it next) or not at all.
        if (NewLocalEntry(settings, flight.Validity, value, buffer, jsonOffset, flight.StartedAt) is { } entry)
            flight.StoreUnlessInvalidated(_local, entry);
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
        long expiresAt = _local.ExpiryFor(lifetime, readAt);
        if (ImmutableType<T>.Value)
            return new LocalEntry<T>(value, buffer.Length, expiresAt, validity);
        if (ImmutableType<T>.ReadOnlyCopy is { } readOnlyCopy)
            return new LocalEntry<T>(readOnlyCopy(value), buffer.Length, expiresAt, validity);
        return new LocalEntry(buffer, jsonOffset, buffer.Length, expiresAt, validity);
    }

    /// <summary>DisableUnderlyingData: L1, then L2, else <c>default</c>; no fill, nothing stored.</summary>
    private async ValueTask<T> ReadOnlyAsync<T>(string key, EntrySettings settings, CancellationToken cancellationToken)
    {
        if (_store is null || !settings.ReadRedis)
            return default!;
        RedisRead read = await _store.ReadAsync(key, settings.Tags, cancellationToken).ConfigureAwait(false);
        if (!_codec.TryRead(key, settings.Tags, read, out T value, out _))
            return default!;
        _metrics.RedisHit();
        Log.RedisHit(_logger, key);
        return value;
    }
}

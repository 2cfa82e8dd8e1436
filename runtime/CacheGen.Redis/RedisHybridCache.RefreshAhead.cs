using System.Collections.Concurrent;
using CacheGen.Infrastructure;

namespace CacheGen.Redis;

// Refresh ahead (RefreshAheadPercent): a hit on an entry past that share of its lifetime is answered at once and starts
// one refresh of the entry in the background: one per key on an instance (a claim on the in-process entry, then a
// registry of running refreshes), one across instances (the key's fill lease, not waited for: held elsewhere, skipped).
// The refresh is a fill that does not take the value Redis holds: it reads only for the guard, runs the data call under
// no caller's token, and stores through the guard, so an eviction while it runs wins.
internal sealed partial class RedisHybridCache
{
    // Refreshes running on this instance, by key.
    private readonly ConcurrentDictionary<string, byte> _refreshes = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts the refresh of <paramref name="key"/> after a hit claimed it, unless one is running here already. Returns
    /// at once: the refresh runs on the thread pool, so the caller never runs any of it.
    /// </summary>
    private void StartRefresh<TState, T>(CachedMethod method, string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        Func<TState, string[]>? tags, Delegate? unless, Delegate? lifetime, Delegate? valueTags)
    {
        if (!_refreshes.TryAdd(key, 0))
            return;
        try
        {
            // ReadRedis off: the value in Redis is the one being refreshed; the fill still reads it, for the guard.
            EntrySettings settings = Settings(method.Options, tags is null ? method.RegionTags : tags(state), method, unless, lifetime, valueTags)
                with { ReadRedis = false, IsRefresh = true };
            _ = Task.Run(() => RefreshAsync(key, state, factory, settings));
        }
        catch
        {
            _refreshes.TryRemove(key, out _);
            throw;
        }
    }

    /// <summary>
    /// Awaits a read that missed in-process, then starts the refresh if the entry it found (in Redis, or a fill it joined)
    /// is past its refresh point: with a short in-process lifetime, a busy key is read from Redis often.
    /// </summary>
    private async ValueTask<T> RefreshIfDueAfterAsync<TState, T>(ValueTask<T> read, CachedMethod method, string key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, Delegate? unless, Delegate? lifetime, Delegate? valueTags)
    {
        T value = await read.ConfigureAwait(false);
        if (_local.TryClaimRefresh(key))
            StartRefresh(method, key, state, factory, tags, unless, lifetime, valueTags);
        return value;
    }

    private async Task RefreshAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, EntrySettings settings)
    {
        string? region = CacheMetrics.RegionOf(settings.LocalTags);
        string? lease = null;
        try
        {
            if (_store is not null && settings.WriteRedis)
            {
                // Held: another instance refreshes (or fills) the key now. Unanswered (Redis failing, no scripting): this
                // instance refreshes alone, as it fills alone then.
                string token = Guid.NewGuid().ToString("N");
                bool? acquired = await _store.TryAcquireLeaseAsync(key, token, _options.DistributedLockTimeout, CancellationToken.None).ConfigureAwait(false);
                if (acquired == false)
                {
                    _metrics.RefreshSkipped(region, settings.Method);
                    Log.RefreshSkipped(_logger, key);
                    return;
                }
                lease = acquired == true ? token : null;
            }
            // Registered as the key's fill: a caller that misses joins it, and an eviction takes it out (its value then
            // reaches no cache). A fill running already is refreshing the entry anyway.
            Flight<T> flight = NewFlight<T>(key, settings);
            flight.RunForNoCaller();
            if (!_flights.TryAdd(key, flight))
            {
                _metrics.RefreshSkipped(region, settings.Method);
                Log.RefreshSkipped(_logger, key);
                return;
            }
            _metrics.RefreshStarted(region, settings.Method);
            Log.RefreshStarted(_logger, key);
            if (await RunFlightAsync(flight, state, factory, settings).ConfigureAwait(false) is { } failure)
            {
                // The current value stays until it expires (and its stale window beyond): only the refresh is lost.
                _metrics.RefreshFailed(region, settings.Method);
                Log.RefreshFailed(_logger, key, failure);
            }
        }
        catch (Exception e)
        {
            _metrics.RefreshFailed(region, settings.Method);
            Log.RefreshFailed(_logger, key, e);
        }
        finally
        {
            if (lease is not null)
                await _store!.ReleaseLeaseAsync(key, lease).ConfigureAwait(false);
            _refreshes.TryRemove(key, out _);
            Hooks.RefreshFinished?.Invoke(key);
        }
    }

    /// <summary>
    /// Sets when a hit on <paramref name="entry"/> starts its refresh: <see cref="EntrySettings.RefreshAheadPercent"/> of
    /// the entry's lifetime after it was written, counted back from the expiry its envelope carries (the writer's clock), so
    /// every instance's copy reaches the point together however late it read the entry. The writer knows the lifetime it
    /// drew; a reader takes the shortest the entry can have had (the TTL less its whole jitter share, or what was left
    /// when it read it), so a refresh never starts early, and starts late by at most that share of the jitter.
    /// </summary>
    private void PlanRefresh(LocalEntry entry, EntrySettings settings, long expiresAtMilliseconds)
    {
        if (expiresAtMilliseconds == 0)
            return;
        long now = _codec.UtcNowMilliseconds;
        double remaining = Math.Max(0, expiresAtMilliseconds - now);
        double lifetime = settings.ExactLifetime
            ? settings.Expiration.TotalMilliseconds
            : settings.Lifetime is not null
                ? remaining
                : Math.Max(remaining, settings.Expiration.TotalMilliseconds * (100 - settings.JitterPercent) / 100.0);
        double untilRefresh = remaining - lifetime * (100 - settings.RefreshAheadPercent) / 100.0;
        long at = _local.Now;
        entry.RefreshFrom(untilRefresh <= 0 ? at : at + _local.DurationOf(TimeSpan.FromMilliseconds(untilRefresh)));
    }

    /// <summary>A refresh's value the method would not store: the entry it would have replaced is no longer current either.</summary>
    private async Task<FlightResult<T>> EvictRefusedAsync<T>(string key, FlightResult<T> result)
    {
        await RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
        return result;
    }
}

using System.Diagnostics;

namespace CacheGen.Redis;

// Cross-instance stampede protection for batches: the single fill's lease, taken for many ids at once.
internal sealed partial class RedisHybridCache
{
    /// <summary>
    /// With <see cref="CacheGenOptions.DistributedStampedeProtection"/>: takes the fill leases of the ids Redis did not
    /// have (one call per hash slot), loads those it got, and meanwhile waits, bounded by
    /// <see cref="CacheGenOptions.DistributedLockTimeout"/>, for the values of the ids another instance is loading. An
    /// id whose lease comes free without a value, or whose wait times out, is loaded afterwards, as a single fill
    /// would then load it. Leases are released once the values are written.
    /// </summary>
    private async Task LoadLeasedAsync<TId, TState, T>(List<BatchItem<TId, T>> owned, List<int> toLoad, RedisRead[] reads, TState state,
        Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory, CancellationToken token)
        where TId : notnull
    {
        // As for a single fill: only an entry read from and written to Redis, with a read to guard the write, is leased.
        var unprotected = new List<int>();
        var leasable = new List<int>();
        foreach (int i in toLoad)
        {
            EntrySettings settings = owned[i].Settings;
            (reads[i].Succeeded && settings.ReadRedis && settings.WriteRedis && !settings.HasValueTags ? leasable : unprotected).Add(i);
        }
        var lease = new BatchLease(Guid.NewGuid().ToString("N"));
        try
        {
            List<int> ours = [], waiting = [];
            if (leasable.Count > 0)
                (ours, waiting) = await LeaseOrReadAsync(owned, leasable, reads, lease, waited: false, token).ConfigureAwait(false);
            ours.AddRange(unprotected);
            Task loading = ours.Count > 0 ? LoadAsync(owned, ours, reads, state, factory, token) : Task.CompletedTask;
            List<int> later = waiting.Count > 0 ? await WaitForOthersAsync(owned, waiting, reads, lease, token).ConfigureAwait(false) : [];
            await loading.ConfigureAwait(false);
            if (later.Count > 0)
                await LoadAsync(owned, later, reads, state, factory, token).ConfigureAwait(false);
        }
        finally
        {
            // After the writes, so an instance that waits on a lease finds the value once the lease is gone.
            if (lease.Keys.Count > 0)
                await _store!.ReleaseLeasesAsync(lease.Keys, lease.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Tries the leases of <paramref name="ids"/>, then reads their entries again (a holder may have written and
    /// released since the last read). A value found answers its id; the rest are to load (lease taken, or Redis did
    /// not answer) or to wait for (another instance holds the lease). Each id's read is replaced by the newest.
    /// </summary>
    private async Task<(List<int> Load, List<int> Wait)> LeaseOrReadAsync<TId, T>(List<BatchItem<TId, T>> owned, List<int> ids, RedisRead[] reads,
        BatchLease lease, bool waited, CancellationToken token)
        where TId : notnull
    {
        string[] keys = [.. ids.Select(i => owned[i].Flight.Key)];
        bool[]? taken = await _store!.TryAcquireLeasesAsync(keys, lease.Token, _options.DistributedLockTimeout, token).ConfigureAwait(false);
        if (taken is null)
            return (ids, []);
        for (int j = 0; j < keys.Length; j++)
        {
            if (taken[j])
                lease.Keys.Add(keys[j]);
        }
        RedisRead[] again = await _store.ReadManyAsync(keys, [.. ids.Select(i => owned[i].Settings.Tags)], token).ConfigureAwait(false);
        var load = new List<int>();
        var wait = new List<int>();
        for (int j = 0; j < ids.Count; j++)
        {
            int i = ids[j];
            BatchItem<TId, T> item = owned[i];
            if (_codec.TryRead(keys[j], item.Settings.Tags, again[j], out T value, out int jsonOffset))
            {
                _metrics.RedisHit(CacheMetrics.RegionOf(item.Settings.Tags), item.Settings.Method);
                Log.RedisHit(_logger, keys[j]);
                if (waited)
                    _metrics.DistributedStampedeJoin();
                StoreLocal(item.Flight, item.Settings, value, again[j].Value, jsonOffset);
                Finish(item, new FlightResult<T>(value, again[j].Value, jsonOffset));
                continue;
            }
            // Redis did not answer: loaded, as a single fill then loads (its write is not guarded, so it is not written).
            if (!again[j].Succeeded || taken[j])
                reads[i] = again[j];
            (!again[j].Succeeded || taken[j] ? load : wait).Add(i);
        }
        return (load, wait);
    }

    /// <summary>
    /// Polls the ids other instances hold leases for until each has a value, its lease is ours, or the wait timed out.
    /// Returns the ids to load now. A fill whose callers all left answers the rest with the cancellation.
    /// </summary>
    private async Task<List<int>> WaitForOthersAsync<TId, T>(List<BatchItem<TId, T>> owned, List<int> waiting, RedisRead[] reads,
        BatchLease lease, CancellationToken token)
        where TId : notnull
    {
        Interlocked.Increment(ref _distributedWaits);
        TimeSpan timeout = _options.DistributedLockTimeout;
        long started = Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(5);
        var load = new List<int>();
        while (waiting.Count > 0)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed >= timeout)
            {
                foreach (int i in waiting)
                    Log.DistributedLockWaitTimedOut(_logger, owned[i].Flight.Key, (long)elapsed.TotalMilliseconds);
                load.AddRange(waiting);
                break;
            }
            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                foreach (int i in waiting)
                    Finish(owned[i], failure: e);
                break;
            }
            // Short first polls (a fast holder is done in milliseconds), then at most every 100 ms.
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
            (List<int> ours, waiting) = await LeaseOrReadAsync(owned, waiting, reads, lease, waited: true, token).ConfigureAwait(false);
            load.AddRange(ours);
        }
        return load;
    }
}

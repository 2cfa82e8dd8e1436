using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using CacheGen.Infrastructure;

namespace CacheGen.Redis;

// Batch read-through ([CachedBatch], HybridCacheBatchExtensions): the entries of a single [Cached] method, many at once.
// Each id missed in L1 becomes a flight of its own, registered like a single fill's, so single calls and other batches
// join it (and it joins theirs), evictions invalidate it, and its value is stored through the single fill's own steps.
// What is shared is the Redis read (one MGET per hash slot) and the one data call for all the ids that missed.
internal sealed partial class RedisHybridCache : IMethodBatchCache
{
    /// <inheritdoc />
    public ValueTask<Dictionary<TId, T>> GetOrCreateManyAsync<TId, TState, T>(CachedMethod method, IEnumerable<TId> ids, TState state,
        Func<TState, TId, string> key, Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory,
        Func<TState, TId, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken)
        where TId : notnull
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        cancellationToken.ThrowIfCancellationRequested();

        // A warm batch costs its L1 hits and this dictionary; the rest is made only when something missed.
        var found = new Dictionary<TId, T>(ids is IReadOnlyCollection<TId> counted ? counted.Count : 0);
        List<(TId Id, string Key)>? missed = null;
        foreach (TId id in ids)
        {
            if (found.ContainsKey(id))
                continue;
            string entryKey = key(state, id);
            if (TryLocalHit(entryKey, method.Options, tags: null, method, out T value))
            {
                // A null entry is "not found": absent from the result.
                if (value is not null)
                    found[id] = value;
                continue;
            }
            (missed ??= []).Add((id, entryKey));
        }
        return missed is null
            ? new ValueTask<Dictionary<TId, T>>(found)
            : FillManyAsync(method, missed, found, state, factory, tags, unless, cancellationToken);
    }

    private async ValueTask<Dictionary<TId, T>> FillManyAsync<TId, TState, T>(CachedMethod method, List<(TId Id, string Key)> missed,
        Dictionary<TId, T> found, TState state, Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory,
        Func<TState, TId, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken)
        where TId : notnull
    {
        var owned = new List<BatchItem<TId, T>>(missed.Count);
        var joined = new List<(TId Id, string Key, Flight<T> Flight, EntrySettings Settings)>();
        var seen = new HashSet<TId>();
        foreach ((TId id, string entryKey) in missed)
        {
            if (!seen.Add(id))
                continue;
            EntrySettings settings = Settings(method.Options, tags is null ? method.RegionTags : tags(state, id), method, unless);
            while (true)
            {
                if (_flights.TryGetValue(entryKey, out Flight? existing))
                {
                    // The single fill's rule: join a fill of the same type no eviction has overtaken and that has not answered.
                    if (existing is Flight<T> running && !running.IsWriting && !running.IsInvalidated && _local.IsCurrent(running.Validity) && running.TryJoin())
                    {
                        _metrics.LocalStampedeJoin();
                        joined.Add((id, entryKey, running, settings));
                        break;
                    }
                    existing.Invalidate();
                    Flight<T> replacement = NewFlight<T>(entryKey, settings);
                    if (_flights.TryUpdate(entryKey, replacement, existing))
                    {
                        owned.Add(new BatchItem<TId, T>(id, settings, replacement));
                        break;
                    }
                    continue;
                }
                // A fill may have landed between the miss and here.
                if (settings.ReadLocal && _local.TryGet(entryKey, out T landed))
                {
                    _metrics.LocalHit(CacheMetrics.RegionOf(settings.LocalTags), settings.Method);
                    if (landed is not null)
                        found[id] = landed;
                    break;
                }
                Flight<T> flight = NewFlight<T>(entryKey, settings);
                if (_flights.TryAdd(entryKey, flight))
                {
                    owned.Add(new BatchItem<TId, T>(id, settings, flight));
                    break;
                }
            }
        }

        Exception? failure = null;
        if (owned.Count > 0)
        {
            _ = RunBatchFillAsync(owned, state, factory);
            // Each id's wait is its flight's creator wait: a caller that leaves leaves every flight it started, and the
            // data call is cancelled only once no caller waits for any of them (see RunBatchFillAsync).
            var waits = new ValueTask<T>[owned.Count];
            for (int i = 0; i < owned.Count; i++)
                waits[i] = owned[i].Flight.WaitForCreatorAsync(cancellationToken);
            // Every wait is awaited, even after one failed: each holds a registration on the caller's token until then.
            for (int i = 0; i < owned.Count; i++)
            {
                try
                {
                    T value = await waits[i].ConfigureAwait(false);
                    if (value is not null)
                        found[owned[i].Id] = value;
                }
                catch (NotFoundInBatch)
                {
                }
                catch (Exception e)
                {
                    failure ??= e;
                }
            }
        }

        foreach ((TId id, string entryKey, Flight<T> running, EntrySettings settings) in joined)
        {
            try
            {
                T value = await running.WaitAsync(_codec.Serializer, cancellationToken).ConfigureAwait(false);
                if (value is not null)
                    found[id] = value;
            }
            catch (Exception) when (running.FailedWithoutItsStarter && !cancellationToken.IsCancellationRequested)
            {
                // The fill this id joined was left by its starter and failed (or its batch did not find this value type's
                // id): this caller asks for the id itself, as a single call would, with its own state.
                (bool isFound, T value) = await FillAloneAsync(method, id, entryKey, settings, state, factory, unless, cancellationToken).ConfigureAwait(false);
                if (isFound && value is not null)
                    found[id] = value;
            }
            catch (Exception e)
            {
                failure ??= e;
            }
        }

        if (failure is not null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ExceptionDispatchInfo.Throw(failure);
        }
        return found;
    }

    /// <summary>One id through the single fill, with the batch's data call asked for that id alone.</summary>
    private async Task<(bool Found, T Value)> FillAloneAsync<TId, TState, T>(CachedMethod method, TId id, string entryKey, EntrySettings settings,
        TState state, Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory, Func<T, bool>? unless,
        CancellationToken cancellationToken)
        where TId : notnull
    {
        try
        {
            T value = await GetOrCreateSlowAsync(entryKey, (State: state, Id: id, Factory: factory),
                static async (s, token) =>
                {
                    IReadOnlyDictionary<TId, T>? values = await s.Factory(s.State, [s.Id], token).ConfigureAwait(false);
                    if (values is not null && values.TryGetValue(s.Id, out T? value))
                        return value;
                    return default(T) is null ? default! : throw new NotFoundInBatch();
                },
                method.Options, settings.LocalTags, cancellationToken, method, unless).ConfigureAwait(false);
            return (true, value);
        }
        catch (NotFoundInBatch)
        {
            return (false, default!);
        }
    }

    /// <summary>
    /// The batch's fill: one Redis read for every owned id, one data call for those Redis did not have, then each value
    /// stored as a single fill stores its own. Every owned flight is answered and leaves the registry, whatever happens.
    /// </summary>
    private async Task RunBatchFillAsync<TId, TState, T>(List<BatchItem<TId, T>> owned, TState state,
        Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory)
        where TId : notnull
    {
        // The data call runs until every caller of every id it loads has left (each flight's token says so for its own).
        using var dataCall = new CancellationTokenSource();
        var registrations = new CancellationTokenRegistration[owned.Count];
        object countdown = (new StrongBox<int>(owned.Count), dataCall);
        for (int i = 0; i < owned.Count; i++)
        {
            registrations[i] = owned[i].Flight.Token.UnsafeRegister(static (state, _) =>
            {
                var (counter, source) = ((StrongBox<int>, CancellationTokenSource))state!;
                if (Interlocked.Decrement(ref counter.Value) == 0)
                {
                    try
                    {
                        source.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                }
            }, countdown);
        }
        try
        {
            await FillOwnedAsync(owned, state, factory, dataCall.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            foreach (BatchItem<TId, T> item in owned)
            {
                if (!item.Finished)
                    Finish(item, failure: e);
            }
        }
        finally
        {
            foreach (CancellationTokenRegistration registration in registrations)
                registration.Dispose();
        }
    }

    private async Task FillOwnedAsync<TId, TState, T>(List<BatchItem<TId, T>> owned, TState state,
        Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory, CancellationToken token)
        where TId : notnull
    {
        // Redis first: one read for every owned id (the read also brings the generations that guard the writes).
        var reads = new RedisRead[owned.Count];
        Array.Fill(reads, RedisRead.Failed);
        if (_store is not null && _codec.IsCacheable<T>())
        {
            var indexes = new List<int>(owned.Count);
            for (int i = 0; i < owned.Count; i++)
            {
                if (owned[i].Settings.ReadRedis || owned[i].Settings.WriteRedis)
                    indexes.Add(i);
            }
            if (indexes.Count > 0)
            {
                RedisRead[] answered = await _store.ReadManyAsync([.. indexes.Select(i => owned[i].Flight.Key)], [.. indexes.Select(i => owned[i].Settings.Tags)],
                    token).ConfigureAwait(false);
                for (int j = 0; j < indexes.Count; j++)
                    reads[indexes[j]] = answered[j];
            }
        }

        var toLoad = new List<int>(owned.Count);
        for (int i = 0; i < owned.Count; i++)
        {
            BatchItem<TId, T> item = owned[i];
            string key = item.Flight.Key;
            if (Hooks.AfterRedisRead is { } hook)
                await hook(key).ConfigureAwait(false);
            if (item.Settings.ReadRedis && _codec.TryRead(key, item.Settings.Tags, reads[i], out T cached, out int jsonOffset))
            {
                _metrics.RedisHit(CacheMetrics.RegionOf(item.Settings.Tags), item.Settings.Method);
                Log.RedisHit(_logger, key);
                StoreLocal(item.Flight, item.Settings, cached, reads[i].Value, jsonOffset);
                Finish(item, new FlightResult<T>(cached, reads[i].Value, jsonOffset));
                continue;
            }
            if (!item.Settings.RunsFactory)
            {
                Finish(item, failure: new NotFoundInBatch());
                continue;
            }
            toLoad.Add(i);
        }
        if (toLoad.Count == 0)
            return;
        if (_options.DistributedStampedeProtection && _store is not null)
            await LoadLeasedAsync(owned, toLoad, reads, state, factory, token).ConfigureAwait(false);
        else
            await LoadAsync(owned, toLoad, reads, state, factory, token).ConfigureAwait(false);
    }

    /// <summary>
    /// One data call for the owned ids <paramref name="toLoad"/> (indexes into <paramref name="owned"/>), with the
    /// fail-safe per id, then each value stored as its own fill would store it. Answers every flight it was given.
    /// </summary>
    private async Task LoadAsync<TId, TState, T>(List<BatchItem<TId, T>> owned, List<int> toLoad, RedisRead[] reads, TState state,
        Func<TState, IReadOnlyList<TId>, CancellationToken, ValueTask<IReadOnlyDictionary<TId, T>>> factory, CancellationToken token)
        where TId : notnull
    {
        // The fail-safe's fallbacks, found before the data call runs, per id.
        var fallbacks = new Fallback<T>?[owned.Count];
        var ids = new TId[toLoad.Count];
        for (int j = 0; j < toLoad.Count; j++)
        {
            BatchItem<TId, T> item = owned[toLoad[j]];
            ids[j] = item.Id;
            if (item.Settings.StaleFor > TimeSpan.Zero)
                fallbacks[toLoad[j]] = FindFallback<T>(item.Flight.Key, item.Settings.Tags, reads[toLoad[j]], item.Settings);
            _metrics.Miss(CacheMetrics.RegionOf(item.Settings.Tags), item.Settings.Method);
            Log.Miss(_logger, item.Flight.Key);
        }

        string? region = CacheMetrics.RegionOf(owned[toLoad[0]].Settings.Tags);
        string? method = owned[toLoad[0]].Settings.Method;
        IReadOnlyDictionary<TId, T>? values;
        long started = Stopwatch.GetTimestamp();
        using (Activity? activity = CacheMetrics.ActivitySource.StartActivity("cachegen.fill_batch"))
        {
            activity?.SetTag("cachegen.region", region);
            activity?.SetTag("cachegen.batch_size", ids.Length);
            try
            {
                values = await WithSoftTimeoutAsync(owned, toLoad, fallbacks, factory(state, ids, token)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Fail-safe per id: an expired value where there is one, the failure where there is none.
                foreach (int i in toLoad)
                {
                    BatchItem<TId, T> item = owned[i];
                    if (fallbacks[i] is { } fallback && !token.IsCancellationRequested)
                    {
                        activity?.SetTag("cachegen.stale_served", true);
                        Served(item.Settings, item.Flight.Key, StaleReason.Failure, e);
                        StoreThrottled(item.Flight, item.Settings, fallback);
                        Finish(item, fallback.Result);
                    }
                    else
                    {
                        Finish(item, failure: e);
                    }
                }
                return;
            }
        }
        _metrics.FillDuration(Stopwatch.GetElapsedTime(started), region, method);

        // Each value is stored as its own fill would store it, all writes in flight together.
        var stores = new List<Task>(toLoad.Count);
        foreach (int i in toLoad)
        {
            BatchItem<TId, T> item = owned[i];
            if (values is not null && values.TryGetValue(item.Id, out T? value))
                stores.Add(StoreItemAsync(item, reads[i], value));
            else if (default(T) is null)
                // Not found: a null entry, stored if the method caches nulls, as the single method's null result would be.
                stores.Add(StoreItemAsync(item, reads[i], default!));
            else
                // A value type has no "not found" entry: nothing is stored, and a single call that joined asks again itself.
                Finish(item, failure: new NotFoundInBatch());
        }
        await Task.WhenAll(stores).ConfigureAwait(false);
    }

    /// <summary>
    /// The soft timeout (<c>TimeoutMilliseconds</c> with <c>StaleSeconds</c>), per id: if the data call is slower, each
    /// id with an expired value is answered with it now (its callers, and those who join, stop waiting); the call goes
    /// on, and its results are stored through the guard as usual. Ids without one wait for the call.
    /// </summary>
    private async ValueTask<IReadOnlyDictionary<TId, T>> WithSoftTimeoutAsync<TId, T>(List<BatchItem<TId, T>> owned, List<int> toLoad,
        Fallback<T>?[] fallbacks, ValueTask<IReadOnlyDictionary<TId, T>> call)
        where TId : notnull
    {
        TimeSpan timeout = owned[toLoad[0]].Settings.Timeout;
        if (call.IsCompleted || timeout <= TimeSpan.Zero || !toLoad.Exists(i => fallbacks[i] is not null))
            return await call.ConfigureAwait(false);
        Task<IReadOnlyDictionary<TId, T>> pending = call.AsTask();
        using var timer = new CancellationTokenSource();
        Task delay = Task.Delay(timeout, _time, timer.Token);
        if (await Task.WhenAny(pending, delay).ConfigureAwait(false) != pending)
        {
            foreach (int i in toLoad)
            {
                if (fallbacks[i] is not { } fallback)
                    continue;
                Served(owned[i].Settings, owned[i].Flight.Key, StaleReason.Timeout, exception: null);
                // The flight stays registered until the call's result is stored (or its failure handled).
                owned[i].Flight.Complete(fallback.Result);
            }
        }
        timer.Cancel();
        return await pending.ConfigureAwait(false);
    }

    private async Task StoreItemAsync<TId, T>(BatchItem<TId, T> item, RedisRead read, T value)
        where TId : notnull
    {
        try
        {
            FlightResult<T> result = await StoreFilledAsync(item.Flight, item.Settings, read, value, CacheMetrics.RegionOf(item.Settings.Tags))
                .ConfigureAwait(false);
            Finish(item, result);
        }
        catch (Exception e)
        {
            Finish(item, failure: e);
        }
    }

    /// <summary>Answers an owned flight (once) and takes it out of the registry, as a single fill ends.</summary>
    private void Finish<TId, T>(BatchItem<TId, T> item, FlightResult<T> result = default, Exception? failure = null)
        where TId : notnull
    {
        if (item.Finished)
            return;
        item.Finished = true;
        Settle(item.Flight, result, failure);
        Hooks.FillFinished?.Invoke(item.Flight.Key);
    }

    /// <summary>An id this batch fills: its entry's settings and its flight, answered once.</summary>
    private sealed class BatchItem<TId, T>(TId id, EntrySettings settings, Flight<T> flight)
    {
        public TId Id { get; } = id;

        public EntrySettings Settings { get; } = settings;

        public Flight<T> Flight { get; } = flight;

        public bool Finished { get; set; }
    }

    /// <summary>
    /// A batch's data call left out an id whose value type has no null: not found, which no entry can say. A cancellation
    /// to the flight's joiners (they ask again themselves, as when a fill's starter left), absence to the batch.
    /// </summary>
    private sealed class NotFoundInBatch : OperationCanceledException
    {
        public NotFoundInBatch() : base("The batch's data call returned no value for this id.")
        {
        }
    }
}

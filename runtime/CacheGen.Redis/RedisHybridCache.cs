using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheGen.Redis;

/// <summary>
/// CacheGen's <see cref="HybridCache"/>: an in-process L1 in front of Redis (L2), with O(1) region eviction through
/// per-tag generations, a guarded write against the stale-set race, one fill per key per instance, and a Redis that
/// may be slow or gone without the caller noticing more than a miss.
/// </summary>
internal sealed class RedisHybridCache : HybridCache, IEvictionTarget, IAsyncDisposable, IDisposable
{
    private const string AllTags = "*";

    private readonly CacheGenOptions _options;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly PayloadSerializer _serializer;
    private readonly LocalCache _local;
    private readonly RedisStore? _store;
    private readonly Backplane? _backplane;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private int _distributedWaits;

    public RedisHybridCache(IOptions<CacheGenOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        _options = options.Value;
        if (_options.Validate() is { } problem)
            throw new OptionsValidationException(Options.DefaultName, typeof(CacheGenOptions), [problem]);

        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("CacheGen.Redis");
        _metrics = new CacheMetrics(meterFactory);
        _serializer = new PayloadSerializer(_options.SerializerOptions);
        _local = new LocalCache(_serializer, timeProvider ?? TimeProvider.System, _options.MaximumLocalEntries, _options.MaximumLocalBytes);

        if (string.IsNullOrWhiteSpace(_options.Redis))
        {
            Log.InProcessOnly(_logger);
            return;
        }
        var keys = new RedisKeyLayout(_options.KeyPrefix, _options.KeyVersion);
        _store = new RedisStore(_options, keys, _logger, _metrics);
        if (_options.Backplane)
        {
            _backplane = new Backplane(_store, keys, this, _logger, _metrics, _options.DropIncomingBackplaneMessage);
            // An eviction replayed after an outage reaches the other instances then (it was not published when made).
            Backplane backplane = _backplane;
            _store.EvictionReplayed = (name, isTag) => isTag ? backplane.PublishTagAsync(name, CancellationToken.None) : backplane.PublishKeyAsync(name, CancellationToken.None);
        }
    }

    /// <summary>The meter this instance reports on (tests listen to it).</summary>
    internal Meter Meter => _metrics.Meter;

    /// <summary>Completes once this instance listens for other instances' evictions.</summary>
    internal Task BackplaneReady => _backplane?.Ready ?? Task.CompletedTask;

    /// <summary>How many evictions from other instances this one has applied (tests).</summary>
    internal int BackplaneMessagesApplied => _backplane?.MessagesApplied ?? 0;

    /// <summary>How many times the subscription was confirmed back after a connection loss (tests).</summary>
    internal int BackplaneResubscriptions => _backplane?.Resubscriptions ?? 0;

    /// <summary>How many fills found another instance's lease and waited for its value (tests).</summary>
    internal int DistributedWaits => Volatile.Read(ref _distributedWaits);

    /// <summary>The Redis circuit breaker's state, or null without Redis (tests).</summary>
    internal BreakerState? RedisBreakerState => _store?.BreakerState;

    /// <summary>How many evictions wait to be replayed in Redis (tests).</summary>
    internal int PendingEvictionCount => _store?.PendingEvictionCount ?? 0;

    /// <summary>The number of fills in flight (tests).</summary>
    internal int FlightCount => _flights.Count;

    /// <summary>The number of in-process entries (tests).</summary>
    internal int LocalCount => _local.Count;

    /// <summary>The bytes the in-process entries count against <see cref="CacheGenOptions.MaximumLocalBytes"/> (tests).</summary>
    internal long LocalBytes => _local.Bytes;

    /// <inheritdoc />
    public override ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        if (CanReadLocal(options) && _local.TryGet(key, out T value))
        {
            _metrics.LocalHit();
            return new ValueTask<T>(value);
        }
        return GetOrCreateSlowAsync(key, state, factory, options, tags, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Generated code calls this for keys with arguments: an in-process hit looks the span up without making a string.</remarks>
    public override ValueTask<T> GetOrCreateAsync<TState, T>(ReadOnlySpan<char> key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (CanReadLocal(options) && _local.TryGet(key, out T value))
        {
            _metrics.LocalHit();
            return new ValueTask<T>(value);
        }
        // The span cannot cross an await: the slow path owns a string.
        return GetOrCreateSlowAsync(key.ToString(), state, factory, options, tags, cancellationToken);
    }

    private static bool CanReadLocal(HybridCacheEntryOptions? options) =>
        options?.Flags is not { } flags || (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0;

    private async ValueTask<T> GetOrCreateSlowAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EntrySettings settings = Settings(options, tags);

        if (!settings.RunsFactory)
            return await ReadOnlyAsync<T>(key, settings, cancellationToken).ConfigureAwait(false);

        while (true)
        {
            if (_flights.TryGetValue(key, out Flight? existing))
            {
                // Join a fill of the same type that no eviction has overtaken since it started.
                if (existing is Flight<T> running && !running.IsInvalidated && _local.IsCurrent(running.Validity) && running.TryJoin())
                {
                    _metrics.LocalStampedeJoin();
                    return await running.WaitAsync(creator: false, _serializer, cancellationToken).ConfigureAwait(false);
                }
                var replacement = NewFlight<T>(key, settings);
                if (_flights.TryUpdate(key, replacement, existing))
                    return await StartFill(replacement, state, factory, settings, cancellationToken).ConfigureAwait(false);
                continue;
            }

            // A fill may have landed between the caller's miss and here.
            if (settings.ReadLocal && _local.TryGet(key, out T landed))
            {
                _metrics.LocalHit();
                return landed;
            }

            Flight<T> flight = NewFlight<T>(key, settings);
            if (_flights.TryAdd(key, flight))
                return await StartFill(flight, state, factory, settings, cancellationToken).ConfigureAwait(false);
        }
    }

    // Captured before anything is read: the validity catches evictions during the fill, the time bounds its L1 lifetime.
    private Flight<T> NewFlight<T>(string key, EntrySettings settings) => new(key, _local.Capture(settings.Tags), _local.Now);

    private ValueTask<T> StartFill<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings, CancellationToken cancellationToken)
    {
        _ = RunFillAsync(flight, state, factory, settings);
        return flight.WaitAsync(creator: true, _serializer, cancellationToken);
    }

    private async Task RunFillAsync<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, EntrySettings settings)
    {
        try
        {
            FlightResult<T> result = await FillAsync(flight, state, factory, settings).ConfigureAwait(false);
            _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Key, flight));
            flight.Complete(result);
        }
        catch (Exception e)
        {
            _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Key, flight));
            flight.Fail(e);
        }
    }

    /// <summary>L2 read, else the data call, then the guarded L2 write and the L1 fill. Runs once per key per instance.</summary>
    private async Task<FlightResult<T>> FillAsync<TState, T>(Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        EntrySettings settings)
    {
        string key = flight.Key;
        string[] tags = settings.Tags;
        CancellationToken token = flight.Token;

        RedisRead read = RedisRead.Failed;
        if (_store is not null && (settings.ReadRedis || settings.WriteRedis))
        {
            // Even with L2 reads off, the read supplies the generations and stamp that guard the write.
            read = await _store.ReadAsync(key, tags, token).ConfigureAwait(false);
            if (_options.AfterRedisRead is { } hook)
                await hook(key).ConfigureAwait(false);
            if (settings.ReadRedis && TryReadRedisValue(key, tags, read, out T cached, out int cachedJsonOffset))
            {
                _metrics.RedisHit();
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
        T value;
        long started = Stopwatch.GetTimestamp();
        using (Activity? activity = CacheMetrics.ActivitySource.StartActivity("cachegen.fill"))
        {
            activity?.SetTag("cachegen.key", key);
            value = await factory(state, token).ConfigureAwait(false);
        }
        _metrics.FillDuration(Stopwatch.GetElapsedTime(started));

        // Serialize once: the same bytes go to Redis, to L1 (whose byte budget counts them) and to joiners' copies of a
        // mutable value. No bytes (too large, or not serializable): returned, not cached.
        bool writeRedis = settings.WriteRedis && read.Succeeded;
        byte[]? buffer = TrySerialize(key, value, writeRedis ? tags.Length : 0, out int jsonOffset);

        if (writeRedis && buffer is not null)
        {
            Envelope.SetGenerations(buffer, read.Generations);
            bool? written = await _store!.GuardedWriteAsync(key, tags, read, buffer, settings.Expiration, token).ConfigureAwait(false);
            if (written == false)
            {
                _metrics.StaleSetRejected();
                Log.StaleSetRejected(_logger, key);
            }
        }

        StoreLocal(flight, settings, value, buffer, jsonOffset);
        return new FlightResult<T>(value, buffer, jsonOffset);
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
            if (TryReadRedisValue(key, tags, again, out T value, out int jsonOffset))
            {
                if (acquired == true)
                    await _store.ReleaseLeaseAsync(key, leaseToken).ConfigureAwait(false);
                _metrics.RedisHit();
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

    private byte[]? TrySerialize<T>(string key, T value, int tagCount, out int jsonOffset)
    {
        try
        {
            byte[] envelope = _serializer.CreateEnvelope(value, key, tagCount, out jsonOffset);
            if (envelope.Length - jsonOffset <= _options.MaximumPayloadBytes)
                return envelope;
            _metrics.OversizedValue();
            Log.PayloadTooLarge(_logger, key, envelope.Length - jsonOffset, _options.MaximumPayloadBytes);
            jsonOffset = 0;
            return null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            Log.SerializeFailed(_logger, key, typeof(T).FullName ?? typeof(T).Name, e);
            jsonOffset = 0;
            return null;
        }
    }

    /// <summary>A Redis value is a hit iff it is a value envelope written under the tags' current generations and reads as a <typeparamref name="T"/>.</summary>
    private bool TryReadRedisValue<T>(string key, string[] tags, RedisRead read, out T value, out int jsonOffset)
    {
        value = default!;
        jsonOffset = 0;
        if (!read.Succeeded || read.Value is not { } bytes)
            return false;
        switch (Envelope.Parse(bytes, out int tagCount, out jsonOffset, out string? problem))
        {
            case EnvelopeKind.Tombstone:
                return false;
            case EnvelopeKind.Invalid:
                return Corrupt(key, "format", problem!);
        }
        // Written under other tags, or before an eviction of one of them: stale, not corrupt.
        if (tagCount != tags.Length)
            return false;
        for (int i = 0; i < tagCount; i++)
        {
            if (Envelope.GetGeneration(bytes, i) != read.Generations[i])
                return false;
        }
        // Checked before any parsing: an oversized or damaged payload never reaches the deserializer.
        if (bytes.Length - jsonOffset > _options.MaximumPayloadBytes)
            return Corrupt(key, "too_large", $"{bytes.Length - jsonOffset} bytes, more than MaximumPayloadBytes");
        if (!Envelope.Verify(bytes, jsonOffset, _serializer.SchemaOf<T>(), key, out string? kind, out problem))
            return Corrupt(key, kind!, problem!);
        try
        {
            value = _serializer.Deserialize<T>(bytes, jsonOffset);
            return true;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            value = default!;
            return Corrupt(key, "json", "JSON that is not a " + typeof(T).Name, e);
        }
    }

    /// <summary>Reports bytes that are not a readable value; the fill that follows replaces them (the guard compares any bytes' stamp).</summary>
    private bool Corrupt(string key, string kind, string problem, Exception? exception = null)
    {
        _metrics.CorruptEntry(kind);
        Log.CorruptEntry(_logger, key, problem, exception);
        return false;
    }

    /// <summary>Fills L1 unless the key or one of its tags was evicted since the fill started.</summary>
    private void StoreLocal<T>(Flight flight, EntrySettings settings, T value, byte[]? buffer, int jsonOffset)
    {
        if (!settings.WriteLocal || flight.IsInvalidated)
            return;
        LocalEntry? entry = NewLocalEntry(settings, flight.Validity, value, buffer, jsonOffset, flight.StartedAt);
        // Evicted between the check and the store: take it back out (the evictor marks first, then removes).
        if (entry is not null && _local.Set(flight.Key, entry) && flight.IsInvalidated)
            _local.RemoveExact(flight.Key, entry);
    }

    private LocalEntry? NewLocalEntry<T>(EntrySettings settings, LocalValidity validity, T value, byte[]? buffer, int jsonOffset, long readAt)
    {
        // Without bytes the value was not serializable or too large: not cached.
        if (buffer is null)
            return null;
        long expiresAt = _local.ExpiryFor(settings.LocalExpiration, readAt);
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
        if (!TryReadRedisValue(key, settings.Tags, read, out T value, out _))
            return default!;
        _metrics.RedisHit();
        return value;
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        EntrySettings settings = Settings(options, tags);
        // A fill that started before this set must not overwrite it in L1 (nor in Redis: the stamp changes below).
        if (_flights.TryRemove(key, out Flight? running))
            running.Invalidate();
        LocalValidity validity = _local.Capture(settings.Tags);

        bool writeRedis = settings.WriteRedis;
        byte[]? buffer = null;
        int jsonOffset = 0;
        if (writeRedis || settings.WriteLocal)
            buffer = TrySerialize(key, value, writeRedis ? settings.Tags.Length : 0, out jsonOffset);

        if (settings.WriteLocal && NewLocalEntry(settings, validity, value, buffer, jsonOffset, _local.Now) is { } entry)
            _local.Set(key, entry);
        else
            _local.Remove(key);

        if (writeRedis && buffer is not null)
        {
            if (await _store!.GetGenerationsAsync(key, settings.Tags, cancellationToken).ConfigureAwait(false) is { } generations)
            {
                Envelope.SetGenerations(buffer, generations);
                await _store.WriteAsync(key, buffer, settings.Expiration, cancellationToken).ConfigureAwait(false);
            }
        }
        if (_backplane is not null)
            await _backplane.PublishKeyAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        _metrics.Eviction();
        await EvictAsync(key, isTag: false, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return WhenAll(keys, RemoveAsync, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// O(1) in the number of entries: the tag's generation moves on (in-process and in Redis) and entries written
    /// under the old one read as misses until their TTL removes them. <c>"*"</c> clears the in-process caches of every
    /// instance; Redis entries then expire by their TTL (bump <see cref="CacheGenOptions.KeyVersion"/> to drop them all).
    /// </remarks>
    public override async ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tag);
        _metrics.Eviction();
        if (tag == AllTags)
        {
            ClearLocal();
            if (_backplane is not null)
                await _backplane.PublishClearAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await EvictAsync(tag, isTag: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override ValueTask RemoveByTagAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return WhenAll(tags, RemoveByTagAsync, cancellationToken);
    }

    private static ValueTask WhenAll(IEnumerable<string> names, Func<string, CancellationToken, ValueTask> evict, CancellationToken cancellationToken) =>
        new(Task.WhenAll(names.Select(name => evict(name, cancellationToken).AsTask())));

    /// <summary>
    /// The one eviction sequence, for a key or a tag: in-process first (this instance stops serving it at once), then
    /// Redis (a tombstone, or a generation bump), then in-process again (a fill that started between the two may have
    /// read the old entry from Redis and must not reach L1; fills from here on see the eviction), then the other
    /// instances through the backplane. If Redis does not confirm it, the store keeps it pending (Redis is not read for
    /// that key or tag here) and replays and publishes it when Redis answers again.
    /// </summary>
    private async ValueTask EvictAsync(string name, bool isTag, CancellationToken cancellationToken)
    {
        EvictLocal(name, isTag);
        if (_store is null)
            return;
        if (_options.BeforeRedisEviction is { } hook)
            await hook(name).ConfigureAwait(false);
        bool confirmed = isTag
            ? await _store.EvictTagAsync(name, cancellationToken).ConfigureAwait(false)
            : await _store.TombstoneAsync(name, _options.DefaultExpiration, cancellationToken).ConfigureAwait(false);
        EvictLocal(name, isTag);
        if (confirmed && _backplane is not null)
            await (isTag ? _backplane.PublishTagAsync(name, cancellationToken) : _backplane.PublishKeyAsync(name, cancellationToken)).ConfigureAwait(false);
    }

    private void EvictLocal(string name, bool isTag)
    {
        if (isTag)
            EvictLocalTag(name);
        else
            EvictLocalKey(name);
    }

    /// <summary>Evicts a key in-process: mark its fill (so it stays out of L1), then drop the entry.</summary>
    public void EvictLocalKey(string key)
    {
        if (_flights.TryRemove(key, out Flight? running))
            running.Invalidate();
        _local.Remove(key);
    }

    /// <summary>Evicts a tag in-process, O(1); fills that started before no longer reach L1 or take joiners.</summary>
    public void EvictLocalTag(string tag) => _local.InvalidateTag(tag);

    /// <summary>Drops every in-process entry and stales every fill in flight.</summary>
    public void ClearLocal() => _local.Clear();

    private EntrySettings Settings(HybridCacheEntryOptions? options, IEnumerable<string>? tags)
    {
        string[] tagArray = MaterializeTags(tags);
        TimeSpan expiration = options?.Expiration ?? _options.DefaultExpiration;
        TimeSpan localExpiration = options?.LocalCacheExpiration ?? (_store is null ? expiration : _options.LocalCacheExpiration);
        if (localExpiration > expiration)
            localExpiration = expiration;
        HybridCacheEntryFlags flags = options?.Flags ?? HybridCacheEntryFlags.None;
        bool positive = expiration > TimeSpan.Zero;
        return new EntrySettings(
            tagArray,
            expiration,
            localExpiration,
            ReadLocal: (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0,
            WriteLocal: (flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0 && localExpiration > TimeSpan.Zero,
            ReadRedis: _store is not null && (flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0,
            WriteRedis: _store is not null && (flags & HybridCacheEntryFlags.DisableDistributedCacheWrite) == 0 && positive,
            RunsFactory: (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0);
    }

    private static string[] MaterializeTags(IEnumerable<string>? tags)
    {
        string[] array = tags switch
        {
            null => [],
            string[] given => given,
            _ => [.. tags],
        };
        if (array.Length > Envelope.MaximumTags)
            throw new ArgumentException($"An entry can have at most {Envelope.MaximumTags} tags.", nameof(tags));
        foreach (string tag in array)
        {
            if (string.IsNullOrEmpty(tag))
                throw new ArgumentException("Tags must not be null or empty.", nameof(tags));
        }
        return array;
    }

    public async ValueTask DisposeAsync()
    {
        _backplane?.Dispose();
        if (_store is not null)
            await _store.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
    }

    public void Dispose()
    {
        _backplane?.Dispose();
        _store?.Dispose();
        _metrics.Dispose();
    }

    private readonly record struct EntrySettings(
        string[] Tags,
        TimeSpan Expiration,
        TimeSpan LocalExpiration,
        bool ReadLocal,
        bool WriteLocal,
        bool ReadRedis,
        bool WriteRedis,
        bool RunsFactory);
}

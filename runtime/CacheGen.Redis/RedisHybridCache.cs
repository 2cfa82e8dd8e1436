using CacheGen.Infrastructure;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
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
internal sealed partial class RedisHybridCache : HybridCache, IEvictionTarget, IAsyncDisposable, IDisposable
{

    private readonly CacheGenOptions _options;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly EntryCodec _codec;
    private readonly LocalCache _local;
    private readonly RedisStore? _store;
    private readonly Backplane? _backplane;
    private readonly TimeProvider _time;
    private readonly OncePerKey _staleLogged = new();
    // Read once: a hit is too hot to ask the logging pipeline each time whether Debug is on.
    private readonly bool _logHits;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private int _distributedWaits;
    // Fills writing Redis: from just before their in-process copy is visible until they leave the registry.
    private int _pendingWrites;

    // services: where the app's IHybridCacheSerializer<T> and IHybridCacheSerializerFactory services are found (see ServiceSerializers).
    public RedisHybridCache(IOptions<CacheGenOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null, IServiceProvider? services = null)
    {
        _options = options.Value;
        if (_options.Validate() is { } problem)
            throw new OptionsValidationException(Options.DefaultName, typeof(CacheGenOptions), [problem]);

        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("CacheGen.Redis");
        _logHits = _logger.IsEnabled(LogLevel.Debug);
        _metrics = new CacheMetrics(meterFactory);
        Hooks = new TestHooks(this);
        var serializer = new PayloadSerializer(_options.SerializerOptions, new ServiceSerializers(services));
        TimeProvider time = timeProvider ?? TimeProvider.System;
        _time = time;
        _codec = new EntryCodec(serializer, _options.MaximumPayloadBytes, time, _logger, _metrics);
        _local = new LocalCache(serializer, time, _options.MaximumLocalEntries, _options.MaximumLocalBytes);
        _metrics.ObserveState(() => _local.AccountedCount, () => _local.Bytes, () => _store?.PendingEvictionCount ?? 0, () => _store?.BreakerState);

        if (string.IsNullOrWhiteSpace(_options.Redis))
        {
            Log.InProcessOnly(_logger);
            return;
        }
        var keys = new RedisKeyLayout(_options.KeyPrefix, _options.KeyVersion);
        _store = new RedisStore(_options, keys, _logger, _metrics);
        if (_options.Backplane)
        {
            _backplane = new Backplane(_store, keys, this, _logger, _metrics) { Hooks = Hooks };
            // An eviction replayed after an outage reaches the other instances then (it was not published when made).
            Backplane backplane = _backplane;
            _store.EvictionReplayed = (name, isTag) => backplane.PublishEvictionAsync(name, isTag, CancellationToken.None);
        }
    }

    /// <inheritdoc />
    public override ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        return TryLocalHit(key, options, tags, method: null, out T value)
            ? new ValueTask<T>(value)
            : GetOrCreateSlowAsync(key, state, factory, options, tags, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Generated code calls this for keys with arguments: an in-process hit looks the span up without making a string.</remarks>
    public override ValueTask<T> GetOrCreateAsync<TState, T>(ReadOnlySpan<char> key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        // The span cannot cross an await: the slow path owns a string.
        return TryLocalHit(key, options, tags, method: null, out T value)
            ? new ValueTask<T>(value)
            : GetOrCreateSlowAsync(key.ToString(), state, factory, options, tags, cancellationToken);
    }

    /// <summary>
    /// The in-process hit every read-through tries first, counted for its region (and method) and, when Debug logging was
    /// on at start, logged: the key becomes a string only for that line.
    /// </summary>
    private bool TryLocalHit<T>(ReadOnlySpan<char> key, HybridCacheEntryOptions? options, IEnumerable<string>? tags, CachedMethod? method, out T value)
    {
        if (!CanReadLocal(options) || !_local.TryGet(key, out value))
        {
            value = default!;
            return false;
        }
        _metrics.LocalHit(method?.Region ?? RegionOf(tags), method?.Name);
        if (_logHits)
            Log.LocalHit(_logger, key.ToString());
        return true;
    }

    /// <summary>The region of a hit, without making the tags an array: generated code passes one already.</summary>
    private static string? RegionOf(IEnumerable<string>? tags) => tags switch
    {
        null => null,
        string[] array => CacheMetrics.RegionOf(array),
        _ => tags.FirstOrDefault(),
    };

    private static bool CanReadLocal(HybridCacheEntryOptions? options) =>
        options?.Flags is not { } flags || (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0;

    /// <inheritdoc />
    public override async ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        EntrySettings settings = Settings(options, tags);
        OverlapUpdates(key);
        // A fill that started before this set must not overwrite it in L1 (nor in Redis: the stamp changes below).
        InvalidateFill(key);
        LocalValidity validity = _local.Capture(settings.LocalTags);

        bool writeRedis = settings.WriteRedis;
        byte[]? buffer = null;
        int jsonOffset = 0;
        if (writeRedis || settings.WriteLocal)
            buffer = _codec.TrySerialize(key, value, writeRedis ? settings.Tags.Length : 0, _codec.ExpiryFor(settings.Expiration), out jsonOffset);

        LocalEntry? entry = settings.WriteLocal ? NewLocalEntry(settings, validity, value, buffer, jsonOffset, _local.Now) : null;
        // Not kept (larger than the whole in-process budget, say): the older value must not stay in its place.
        if (entry is null || !_local.Set(key, entry))
            _local.Remove(key);

        if (writeRedis && buffer is not null)
        {
            if (Hooks.BeforeRedisSet is { } hook)
                await hook(key).ConfigureAwait(false);
            if (await _store!.GetGenerationsAsync(key, settings.Tags, settings.Expiration, cancellationToken).ConfigureAwait(false) is { } generations)
            {
                Envelope.SetGenerations(buffer, generations);
                await _store.WriteAsync(key, buffer, settings.Expiration, cancellationToken).ConfigureAwait(false);
            }
        }
        // A fill that registered since the step above (its data call, or its Redis read, began before this set returned)
        // may have put its value in L1 over this one: the second step of an eviction, keeping this set's own entry. With
        // or without Redis, so both keep the same promise.
        InvalidateFill(key);
        _local.RemoveOtherThan(key, entry);
        if (_backplane is not null)
            await _backplane.PublishKeyAsync(key, cancellationToken).ConfigureAwait(false);
    }

    // The method is the generated method when the call came through IMethodCache: its name labels the metrics, and it
    // brings the fail-safe, the soft timeout and the conditions (with unless, the Func<T, bool> of the call).
    private EntrySettings Settings(HybridCacheEntryOptions? options, IEnumerable<string>? tags, CachedMethod? method = null, Delegate? unless = null,
        Delegate? lifetime = null, Delegate? valueTags = null)
    {
        string[] localTags = MaterializeTags(tags);
        TimeSpan expiration = options?.Expiration ?? _options.DefaultExpiration;
        TimeSpan localExpiration = options?.LocalCacheExpiration ?? (_store is null ? expiration : _options.LocalCacheExpiration);
        if (localExpiration > expiration)
            localExpiration = expiration;
        HybridCacheEntryFlags flags = options?.Flags ?? HybridCacheEntryFlags.None;
        bool positive = expiration > TimeSpan.Zero;
        return WithValueTags(new EntrySettings(
            _store is null ? localTags : WithClearEpoch(localTags, method?.Shape),
            localTags,
            expiration,
            localExpiration,
            ReadLocal: (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0,
            WriteLocal: (flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0 && localExpiration > TimeSpan.Zero,
            ReadRedis: _store is not null && (flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0,
            WriteRedis: _store is not null && (flags & HybridCacheEntryFlags.DisableDistributedCacheWrite) == 0 && positive,
            RunsFactory: (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0,
            Method: method?.Name,
            StaleFor: method?.StaleFor ?? TimeSpan.Zero,
            Timeout: method?.Timeout ?? TimeSpan.Zero,
            CacheNull: method?.CacheNull ?? true,
            Unless: unless)
        {
            JitterPercent = method?.JitterPercent ?? 0,
            RefreshAheadPercent = method?.RefreshAheadPercent ?? 0,
            Lifetime = lifetime,
        }, method?.ValueTagFences, valueTags);
    }

    /// <summary>The entry's tags as given (generated code passes a static array, used as it is).</summary>
    private static string[] MaterializeTags(IEnumerable<string>? tags)
    {
        string[] array = tags switch
        {
            null => [],
            string[] given => given,
            _ => [.. tags],
        };
        if (array.Length > Envelope.MaximumTags - 1)
            throw new ArgumentException($"An entry can have at most {Envelope.MaximumTags - 1} tags.", nameof(tags));
        foreach (string tag in array)
        {
            if (string.IsNullOrEmpty(tag))
                throw new ArgumentException("Tags must not be null or empty.", nameof(tags));
        }
        return array;
    }

    private static readonly string[] OnlyClearEpoch = [RedisKeyLayout.ClearTag];

    /// <summary>
    /// The tags an entry carries in Redis: its own, then the clear epoch of its hash slot as a last, internal tag
    /// (<see cref="RedisKeyLayout.ClearTag"/>), read, guarded and stored like a generation, so <c>RemoveByTagAsync("*")</c>
    /// reaches entries in Redis and fills running across it, on a cluster too. In-process, "*" moves the cache's epoch
    /// instead, so L1 captures only the entry's own tags.
    /// </summary>
    /// <remarks>
    /// A generated method's value type has a <paramref name="shape"/>: its shape tag (<see cref="ShapeTags"/>) comes
    /// just before the clear epoch, so the entry is stored beside those of other shapes and carries its key's generation.
    /// </remarks>
    private static string[] WithClearEpoch(string[] tags, string? shape = null)
    {
        if (tags.Length == 0 && shape is null)
            return OnlyClearEpoch;
        var withEpoch = new string[tags.Length + (shape is null ? 1 : 2)];
        tags.CopyTo(withEpoch, 0);
        if (shape is not null)
            withEpoch[^2] = ShapeTags.For(shape);
        withEpoch[^1] = RedisKeyLayout.ClearTag;
        return withEpoch;
    }

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) until no fill is still writing Redis (they answer their callers first):
    /// disposing waits for them, so an application that stops right after a miss still leaves the entry for the others.
    /// Rare and short (one round trip), so it polls rather than costing every miss a registration.
    /// </summary>
    internal async Task PendingWritesAsync(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Volatile.Read(ref _pendingWrites) > 0 && Environment.TickCount64 < deadline)
            await Task.Delay(1).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await PendingWritesAsync(_options.RedisTimeout).ConfigureAwait(false);
        _backplane?.Dispose();
        if (_store is not null)
            await _store.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
    }

    public void Dispose()
    {
        PendingWritesAsync(_options.RedisTimeout).GetAwaiter().GetResult();
        _backplane?.Dispose();
        _store?.Dispose();
        _metrics.Dispose();
    }

    // Tags: the tags in Redis, the clear epoch last (the tags as given, without Redis). LocalTags: the tags as given,
    // what an in-process entry is valid under. A class: each async step of a miss holds it, and a struct of this size
    // copied into every one of their state machines cost more than the one allocation (a hit never makes one).
    private sealed record EntrySettings(
        string[] Tags,
        string[] LocalTags,
        TimeSpan Expiration,
        TimeSpan LocalExpiration,
        bool ReadLocal,
        bool WriteLocal,
        bool ReadRedis,
        bool WriteRedis,
        bool RunsFactory,
        string? Method,
        TimeSpan StaleFor,
        TimeSpan Timeout,
        bool CacheNull,
        Delegate? Unless)
    {
        /// <summary>How long Redis keeps the entry: its lifetime, then its stale window (the envelope says when it expired).</summary>
        public TimeSpan RedisLifetime => Expiration + StaleFor;

        /// <summary>The most, in percent, by which a stored entry's lifetime is shortened at random (RedisHybridCache.Freshness.cs).</summary>
        public int JitterPercent { get; init; }

        /// <summary>The share of an entry's lifetime after which a hit starts its refresh (RedisHybridCache.RefreshAhead.cs); zero: never.</summary>
        public int RefreshAheadPercent { get; init; }

        /// <summary>A background refresh: no value taken from Redis, no fail-safe fallback, not counted as a miss.</summary>
        public bool IsRefresh { get; init; }

        /// <summary>Whether <see cref="Expiration"/> is the lifetime drawn for the value being stored (TtlFrom, jitter), not the method's TTL.</summary>
        public bool ExactLifetime { get; init; }

        /// <summary>The method's TtlFrom as a Func&lt;T, TimeSpan&gt;: each value's own lifetime (RedisHybridCache.Freshness.cs).</summary>
        public Delegate? Lifetime { get; init; }

        /// <summary>The method's tags from the result as a Func&lt;T, string[]?&gt; (RedisHybridCache.ValueTags.cs).</summary>
        public Delegate? ValueTags { get; init; }

        /// <summary>How many of the last <see cref="Tags"/> and <see cref="LocalTags"/> are fences, read and guarded but carried by no entry.</summary>
        public int FenceCount { get; init; }

        /// <summary>Whether the entry's tags depend on its value: it is read and stored as RedisHybridCache.ValueTags.cs says.</summary>
        public bool HasValueTags => FenceCount > 0 || ValueTags is not null;

        /// <summary>Whether a result is returned to the callers but not stored (CacheNull = false, Unless).</summary>
        public bool Rejects<T>(T value) =>
            (!CacheNull && value is null) || (Unless is Func<T, bool> unless && unless(value));
    }
}

using System.Collections.Concurrent;
using CacheGen.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis;

// What generated code reaches through IMethodCache: read-through whose tags are built only on a fill, and the guarded
// write-through of [UpdatesCache].
internal sealed partial class RedisHybridCache : IMethodCache
{
    // Write-throughs running on this instance, one per key (a second one on the same key marks both as overlapped).
    private readonly ConcurrentDictionary<string, StoreGate> _updates = new(StringComparer.Ordinal);
    private int _updatesRunning;

    /// <inheritdoc />
    public ValueTask<T> GetOrCreateAsync<TState, T>(CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, Func<T, bool>? unless, CancellationToken cancellationToken) =>
        ReadThrough(method, key, state, factory, tags, unless, lifetime: null, valueTags: null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<T> GetOrCreateAsync<TState, T>(CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, ResultRules<T> rules, CancellationToken cancellationToken) =>
        ReadThrough(method, key, state, factory, tags, rules.Unless, rules.Lifetime, rules.Tags, cancellationToken);

    // Inlined into both overloads: the hit of every generated method is one call, with no rules built for it.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ValueTask<T> ReadThrough<TState, T>(CachedMethod method, ReadOnlySpan<char> key, TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory, Func<TState, string[]>? tags, Delegate? unless, Delegate? lifetime, Delegate? valueTags,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(factory);
        // A hit is checked against the tags the entry captured when it was filled: it needs none built here.
        if (TryLocalHit(key, method.Options, tags: null, method, out T value))
        {
            // The one step a method without refresh ahead pays on a hit: this test.
            if (method.RefreshAheadPercent != 0 && _local.TryClaimRefresh(key))
                StartRefresh(method, key.ToString(), state, factory, tags, unless, lifetime, valueTags);
            return new ValueTask<T>(value);
        }
        string keyText = key.ToString();
        ValueTask<T> slow = GetOrCreateSlowAsync(keyText, state, factory, method.Options, tags is null ? method.RegionTags : tags(state), cancellationToken, method,
            unless, lifetime, valueTags);
        return method.RefreshAheadPercent == 0 ? slow : RefreshIfDueAfterAsync(slow, method, keyText, state, factory, tags, unless, lifetime, valueTags);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Remembers what the entry is now, as a fill's read does: the tags' in-process generations, and in Redis the
    /// entry's stamp (or its absence) and the tags' generations. Any write or eviction of the entry before the update
    /// completes changes one of them.
    /// </remarks>
    public async ValueTask<CacheUpdate> BeginUpdateAsync(CachedMethod method, string key, string[] tags)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(key);
        EntrySettings settings = Settings(method.Options, tags, method);
        var ticket = new StoreGate();
        Interlocked.Increment(ref _updatesRunning);
        _updates.AddOrUpdate(key, static (_, mine) => mine, static (_, running, mine) =>
        {
            // Two writes of one entry at once: neither knows which committed last, so neither may store.
            running.Invalidate();
            mine.Invalidate();
            return mine;
        }, ticket);
        LocalValidity validity = _local.Capture(settings.LocalTags);
        long startedAt = _local.Now;
        RedisRead read = RedisRead.Failed;
        if (_store is not null && settings.WriteRedis)
            read = await _store.ReadAsync(key, settings.Tags, CancellationToken.None).ConfigureAwait(false);
        return new Update(this, method, key, tags, settings, validity, startedAt, read, ticket);
    }

    /// <inheritdoc />
    public ValueTask CompleteUpdateAsync<T>(CacheUpdate update, T value, Func<T, bool>? unless) =>
        CompleteUpdateAsync(update, value, new ResultRules<T>(unless, lifetime: null));

    /// <inheritdoc />
    public async ValueTask CompleteUpdateAsync<T>(CacheUpdate update, T value, ResultRules<T> rules)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update is not Update mine)
        {
            await RemoveAsync(update.Key, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        try
        {
            // A value the method would not cache (null with CacheNull = false, one Unless rejects, a lifetime of zero or
            // less) replaces nothing: the write changed the row, so the old entry goes.
            EntrySettings? storing = mine.Settings.Rejects(value) || (rules.Unless is { } unless && unless(value))
                ? null
                : ForStoring(mine.Settings with { Lifetime = rules.Lifetime, ValueTags = rules.Tags }, value);
            if (storing is null || !await TryStoreUpdateAsync(mine, value, storing).ConfigureAwait(false))
            {
                Log.UpdateEvicted(_logger, mine.Key);
                await RemoveAsync(mine.Key, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            mine.Dispose();
        }
    }

    /// <summary>Forgets an update, once: it completed, or its write threw.</summary>
    private void EndUpdate(Update update)
    {
        _updates.TryRemove(new KeyValuePair<string, StoreGate>(update.Key, update.Ticket));
        Interlocked.Decrement(ref _updatesRunning);
    }

    /// <summary>
    /// Stores the update's value as the entry if nothing else wrote or evicted it since the update began; false when in
    /// doubt (an overlap, a rejected or failed guarded write, a value that cannot be cached), and the caller evicts.
    /// </summary>
    private async ValueTask<bool> TryStoreUpdateAsync<T>(Update update, T value, EntrySettings settings)
    {
        if (settings.HasValueTags)
            return await TryStoreValueTaggedUpdateAsync(update, value, settings).ConfigureAwait(false);
        if (update.Ticket.IsInvalidated || !_local.IsCurrent(update.Validity))
            return false;
        bool writeRedis = settings.WriteRedis;
        if (writeRedis && !update.Read.Succeeded)
            return false;
        byte[]? buffer = _codec.TrySerialize(update.Key, value, writeRedis ? settings.Tags.Length : 0, _codec.ExpiryFor(settings.Expiration), out int jsonOffset);
        if (buffer is null)
            return false;
        if (writeRedis)
        {
            Envelope.SetGenerations(buffer, update.Read.Generations);
            if (await _store!.GuardedWriteAsync(update.Key, settings.Tags, update.Read, buffer, settings.RedisLifetime, CancellationToken.None).ConfigureAwait(false) != true)
            {
                _metrics.StaleSetRejected(update.Method.Region, update.Method.Name);
                return false;
            }
        }

        // A fill running now may have read the row before the write committed: it must not reach L1 after this.
        InvalidateFill(update.Key);
        // Atomic with an overlap's mark, as a fill's store is with an eviction's: stored before it (the evictor removes
        // it next) or not at all, so no reader sees the value after an eviction of the key returned.
        LocalEntry? entry = settings.WriteLocal ? NewLocalEntry(settings, update.Validity, value, buffer, jsonOffset, update.StartedAt) : null;
        if (entry is null || !update.Ticket.StoreUnlessInvalidated(_local, update.Key, entry))
            _local.Remove(update.Key);
        // An eviction that came while storing has already run its in-process steps: evict again rather than keep this.
        if (update.Ticket.IsInvalidated || !_local.IsCurrent(update.Validity))
            return false;
        if (_backplane is not null)
            await _backplane.PublishKeyAsync(update.Key, CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    /// <summary>Marks a write-through of <paramref name="key"/> in flight as overlapped by another write or an eviction.</summary>
    private void OverlapUpdates(string key)
    {
        if (Volatile.Read(ref _updatesRunning) > 0 && _updates.TryGetValue(key, out StoreGate? ticket))
            ticket.Invalidate();
    }

    private sealed class Update(RedisHybridCache cache, CachedMethod method, string key, string[] tags, EntrySettings settings, LocalValidity validity,
        long startedAt, RedisRead read, StoreGate ticket) : CacheUpdate(method, key, tags)
    {
        private int _ended;

        public override void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
                cache.EndUpdate(this);
            base.Dispose();
        }

        public EntrySettings Settings { get; } = settings;
        public LocalValidity Validity { get; } = validity;
        public long StartedAt { get; } = startedAt;
        public RedisRead Read { get; } = read;
        public StoreGate Ticket { get; } = ticket;
    }
}

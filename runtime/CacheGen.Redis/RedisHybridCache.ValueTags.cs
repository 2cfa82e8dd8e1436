namespace CacheGen.Redis;

// Tags from the result: an entry carries, after the tags its call's arguments give, tags only its value knows (a
// product's category). They are known once the data call has returned, and to a reader once it has read the value, so:
// - the entry's envelope holds their generations after the call's own tags and before the clear epoch (last, as in every
//   entry, so `cachegen show` reads it where it always does), and a reader
//   that finds such an entry reads the value, builds its tags, and reads the entry again with them (one more round
//   trip, only for an entry that has some): a hit only if they are current too;
// - a fill reads, besides the call's tags, the method's fences (CachedMethod.ValueTagFences): one tag per {result...}
//   template that no entry carries, evicted with every eviction of a tag of that template. The guarded write checks the
//   call's tags and the fences as the fill read them before the data call, and the value's tags as read right after
//   it: an eviction of one of the value's tags while the data call ran moved its template's fence, so that value is
//   not stored (a fill of another entry of the method in flight then is not stored either: returned, not cached);
// - in-process, the entry is valid under the call's tags as captured before the data call and the value's tags as
//   captured before they were read from Redis; not under the fences (an eviction of one category would drop every
//   product in L1), which are checked once more after the copy is stored instead: moved by then, the copy goes.
internal sealed partial class RedisHybridCache
{
    private static readonly string[] NoValueTags = [];

    /// <summary>The settings with the method's fences after its tags, and its tags-from-the-result function.</summary>
    private static EntrySettings WithValueTags(EntrySettings settings, string[]? fences, Delegate? valueTags)
    {
        if (fences is not { Length: > 0 })
            return valueTags is null ? settings : settings with { ValueTags = valueTags };
        return settings with
        {
            Tags = [.. settings.Tags, .. fences],
            LocalTags = [.. settings.LocalTags, .. fences],
            FenceCount = fences.Length,
            ValueTags = valueTags,
        };
    }

    /// <summary>The tags an entry carries whatever its value: the call's, and in Redis the clear epoch (no fences).</summary>
    private static string[] CallTags(EntrySettings settings) => settings.FenceCount == 0 ? settings.Tags : settings.Tags[..^settings.FenceCount];

    private static string[] Fences(EntrySettings settings) => settings.FenceCount == 0 ? NoValueTags : settings.Tags[^settings.FenceCount..];

    /// <summary>The tags an entry in Redis carries: the call's, then the value's, then the clear epoch (last, as always).</summary>
    private static string[] Carried(string[] callTags, string[] valueTags) =>
        valueTags.Length == 0 ? callTags : [.. callTags[..^1], .. valueTags, callTags[^1]];

    /// <summary>The tags <paramref name="value"/> carries (none for a null result, as generated code builds them).</summary>
    private static string[] ValueTagsOf<T>(EntrySettings settings, T value) =>
        settings.ValueTags is Func<T, string[]?> tagsOf && tagsOf(value) is { Length: > 0 } tags ? tags : NoValueTags;

    /// <summary>
    /// A Redis hit on an entry whose tags depend on its value, stored in-process; null for a miss (the fill goes on with
    /// <paramref name="read"/>, which holds the fences for its write).
    /// </summary>
    private async ValueTask<FlightResult<T>?> ReadValueTaggedAsync<T>(Flight<T> flight, EntrySettings settings, RedisRead read)
    {
        string key = flight.Key;
        string[] callTags = CallTags(settings);
        if (!_codec.TryReadWithMoreTags(key, callTags, read, out T value, out int jsonOffset, out int more))
            return null;
        string[] valueTags = ValueTagsOf(settings, value);
        if (valueTags.Length != more)
            return null;
        byte[] bytes = read.Value!;
        // A value read from Redis was checked against every tag it carries: the fences (which guard writes) play no part.
        LocalValidity validity = flight.Validity.WithoutLast(settings.FenceCount);
        if (more > 0)
        {
            // Captured before the second read: an eviction of one of them from here on makes the in-process copy stale.
            validity = validity.With(_local.Capture(valueTags));
            string[] all = Carried(callTags, valueTags);
            RedisRead again = await _store!.ReadAsync(key, all, flight.Token).ConfigureAwait(false);
            // Read anew with every tag; the entry may have been replaced since, by a value with other tags.
            if (!_codec.TryRead(key, all, again, out value, out jsonOffset) || !ValueTagsOf(settings, value).AsSpan().SequenceEqual(valueTags))
                return null;
            bytes = again.Value!;
        }
        _metrics.RedisHit(CacheMetrics.RegionOf(callTags), settings.Method);
        Log.RedisHit(_logger, key);
        StoreLocalValueTagged(flight, settings, value, bytes, jsonOffset, validity);
        return new FlightResult<T>(value, bytes, jsonOffset);
    }

    /// <summary>
    /// Stores a fill's value with its tags (see the file's header): in-process, then the guarded write, which the callers
    /// wait for. A rejected write takes the in-process copy back.
    /// </summary>
    private async Task<FlightResult<T>> StoreValueTaggedAsync<T>(Flight<T> flight, EntrySettings settings, RedisRead read, T value)
    {
        string key = flight.Key;
        string[] valueTags = ValueTagsOf(settings, value);
        // Captured before the value's tags are read from Redis, as a reader does.
        LocalValidity validity = EntryValidity(flight.Validity, settings, valueTags);
        bool redisTags = settings.WriteRedis && read.Succeeded;
        string[] carried = redisTags ? Carried(CallTags(settings), valueTags) : NoValueTags;
        RedisRead guard = redisTags
            ? await GuardOfAsync(key, settings, read, valueTags, flight.Token).ConfigureAwait(false)
            : RedisRead.Failed;
        bool writeRedis = guard.Succeeded;
        byte[]? buffer = _codec.TrySerialize(key, value, writeRedis ? carried.Length : 0, _codec.ExpiryFor(settings.Expiration), out int jsonOffset);
        var result = new FlightResult<T>(value, buffer, jsonOffset);
        LocalEntry? stored = StoreLocalValueTagged(flight, settings, value, buffer, jsonOffset, validity);
        // An eviction of a tag of a {result} template since the data call started (its fence moved): not kept here either.
        if (stored is not null && !_local.IsCurrent(flight.Validity))
        {
            _local.RemoveExact(key, stored);
            stored = null;
        }
        if (!writeRedis || buffer is null)
            return result;
        Interlocked.Increment(ref _pendingWrites);
        try
        {
            Envelope.SetGenerations(buffer, guard.Generations.AsSpan(0, carried.Length));
            if (await _store!.GuardedWriteAsync(key, [.. carried, .. Fences(settings)], guard, buffer, settings.RedisLifetime, flight.Token).ConfigureAwait(false) == false)
            {
                _metrics.StaleSetRejected(CacheMetrics.RegionOf(carried));
                Log.StaleSetRejected(_logger, key);
                if (stored is not null)
                    _local.RemoveExact(key, stored);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _pendingWrites);
        }
        return result;
    }

    /// <summary>
    /// A write-through's store of a value whose tags depend on it, guarded as a fill's (see <see cref="TryStoreUpdateAsync"/>);
    /// false when in doubt, and the caller evicts.
    /// </summary>
    private async ValueTask<bool> TryStoreValueTaggedUpdateAsync<T>(Update update, T value, EntrySettings settings)
    {
        if (update.Ticket.IsInvalidated || !_local.IsCurrent(update.Validity))
            return false;
        bool writeRedis = settings.WriteRedis;
        if (writeRedis && !update.Read.Succeeded)
            return false;
        string[] valueTags = ValueTagsOf(settings, value);
        LocalValidity validity = EntryValidity(update.Validity, settings, valueTags);
        string[] carried = writeRedis ? Carried(CallTags(settings), valueTags) : NoValueTags;
        RedisRead guard = RedisRead.Failed;
        if (writeRedis)
        {
            guard = await GuardOfAsync(update.Key, settings, update.Read, valueTags, CancellationToken.None).ConfigureAwait(false);
            if (!guard.Succeeded)
                return false;
        }
        byte[]? buffer = _codec.TrySerialize(update.Key, value, writeRedis ? carried.Length : 0, _codec.ExpiryFor(settings.Expiration), out int jsonOffset);
        if (buffer is null)
            return false;
        if (writeRedis)
        {
            Envelope.SetGenerations(buffer, guard.Generations.AsSpan(0, carried.Length));
            if (await _store!.GuardedWriteAsync(update.Key, [.. carried, .. Fences(settings)], guard, buffer, settings.RedisLifetime, CancellationToken.None)
                    .ConfigureAwait(false) != true)
            {
                _metrics.StaleSetRejected(update.Method.Region, update.Method.Name);
                return false;
            }
        }
        InvalidateFill(update.Key);
        LocalEntry? entry = settings.WriteLocal ? NewLocalEntry(settings, validity, value, buffer, jsonOffset, update.StartedAt) : null;
        if (entry is null || !update.Ticket.StoreUnlessInvalidated(_local, update.Key, entry))
            _local.Remove(update.Key);
        // Fences included: an eviction of a tag of a {result} template since the write began evicts the entry.
        if (update.Ticket.IsInvalidated || !_local.IsCurrent(validity) || !_local.IsCurrent(update.Validity))
            return false;
        if (_backplane is not null)
            await _backplane.PublishKeyAsync(update.Key, CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// What an in-process copy is valid under: the call's tags as <paramref name="captured"/> before the data call (its
    /// fences left out) and the value's tags, captured now.
    /// </summary>
    private LocalValidity EntryValidity(LocalValidity captured, EntrySettings settings, string[] valueTags)
    {
        LocalValidity validity = captured.WithoutLast(settings.FenceCount);
        return valueTags.Length == 0 ? validity : validity.With(_local.Capture(valueTags));
    }

    /// <summary>
    /// What a value-tagged write is guarded with: the entry's stamp, the call's tags (the clear epoch among them) and the
    /// fences as <paramref name="read"/> (before the data call) found them, and the value's tags as they are now (read
    /// here, created when missing). Keys and generations in the order of the write's tags: the carried ones
    /// (<see cref="Carried"/>), then the fences.
    /// </summary>
    private async ValueTask<RedisRead> GuardOfAsync(string key, EntrySettings settings, RedisRead read, string[] valueTags, CancellationToken token)
    {
        if (valueTags.Length == 0)
            return read;
        int own = settings.Tags.Length - settings.FenceCount;   // the call's tags, the clear epoch last
        string[] all = [.. Carried(settings.Tags[..own], valueTags), .. Fences(settings)];
        RedisRead now = await _store!.ReadAsync(key, all, token).ConfigureAwait(false);
        if (!now.Succeeded)
            return RedisRead.Failed;
        long[] generations =
        [
            .. read.Generations.AsSpan(0, own - 1),
            .. now.Generations.AsSpan(own - 1, valueTags.Length),
            read.Generations[own - 1],
            .. read.Generations.AsSpan(own),
        ];
        return new RedisRead { Succeeded = true, Value = read.Value, Generations = generations, Keys = now.Keys };
    }

    /// <summary>Fills L1 under <paramref name="validity"/> unless the key was evicted since the fill started.</summary>
    private LocalEntry? StoreLocalValueTagged<T>(Flight flight, EntrySettings settings, T value, byte[]? buffer, int jsonOffset, LocalValidity validity)
    {
        if (!settings.WriteLocal || flight.IsInvalidated)
            return null;
        if (NewLocalEntry(settings, validity, value, buffer, jsonOffset, flight.StartedAt) is { } entry && flight.StoreUnlessInvalidated(_local, flight.Key, entry))
            return entry;
        return null;
    }
}

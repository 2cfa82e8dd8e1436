using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis;

// Evictions: by key, by tag (O(1): generations move on), everything; in-process, in Redis, and on other instances.
internal sealed partial class RedisHybridCache
{
    /// <inheritdoc />
    public override async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        _metrics.Eviction(CacheMetrics.RegionOfKey(key));
        Log.KeyEvicted(_logger, key);
        await EvictAsync(key, isTag: false, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// As <see cref="HybridCache"/> asks: a null collection is empty, and null keys in it are skipped. The keys are
    /// evicted together: one call to Redis (one per hash slot on a cluster, sent together) and one backplane message.
    /// </remarks>
    public override ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default) =>
        keys is null ? default : RemoveManyAsync(Distinct(keys.Where(static k => k is not null)), isTag: false, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// O(1) in the number of entries: the tag's generation moves on (in-process and in Redis) and entries written
    /// under the old one read as misses until their TTL removes them. A null or empty tag is nothing to remove (as in
    /// Microsoft's HybridCache). <c>"*"</c> clears everything of this prefix and version: the in-process caches of
    /// every instance, and in Redis the clear epoch every entry carries (one key, or one per hash slot on a cluster),
    /// so every entry written before, and every fill running across it, is a miss.
    /// </remarks>
    public override async ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(tag))
            return;
        // A tag written within its region ({posts}:post:7) counts for the region: metrics never carry a per-entity value.
        _metrics.Eviction(CacheMetrics.RegionOfKey(tag) ?? tag);
        Log.TagEvicted(_logger, tag);
        await EvictAsync(tag, isTag: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// As <see cref="HybridCache"/> asks: a null collection is empty, and null or empty tags in it are skipped. The tags
    /// are evicted together, as <see cref="RemoveAsync(IEnumerable{string}, CancellationToken)"/> evicts keys;
    /// <c>"*"</c> among them clears everything on its own.
    /// </remarks>
    public override async ValueTask RemoveByTagAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        if (tags is null)
            return;
        string[] names = Distinct(tags.Where(static t => !string.IsNullOrEmpty(t)));
        if (Array.IndexOf(names, RedisStore.AllTags) >= 0)
        {
            await RemoveByTagAsync(RedisStore.AllTags, cancellationToken).ConfigureAwait(false);
            names = Array.FindAll(names, static t => t != RedisStore.AllTags);
        }
        await RemoveManyAsync(names, isTag: true, cancellationToken).ConfigureAwait(false);
    }

    private static string[] Distinct(IEnumerable<string> names) => [.. names.Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Many keys or many tags through the one eviction sequence of <see cref="EvictAsync"/>, each step taken for all of
    /// them at once: in-process, Redis in one call per hash slot, in-process again, then one backplane message. Redis
    /// confirms all or none; what it does not confirm is pending, replayed and published as single evictions are.
    /// </summary>
    private async ValueTask RemoveManyAsync(string[] names, bool isTag, CancellationToken cancellationToken)
    {
        if (names.Length <= 1)
        {
            if (names.Length == 1)
                await (isTag ? RemoveByTagAsync(names[0], cancellationToken) : RemoveAsync(names[0], cancellationToken)).ConfigureAwait(false);
            return;
        }
        foreach (string name in names)
        {
            if (isTag)
            {
                _metrics.Eviction(CacheMetrics.RegionOfKey(name) ?? name);
                Log.TagEvicted(_logger, name);
            }
            else
            {
                _metrics.Eviction(CacheMetrics.RegionOfKey(name));
                Log.KeyEvicted(_logger, name);
            }
            EvictLocal(name, isTag);
        }
        if (_store is null)
            return;
        if (Hooks.BeforeRedisEviction is { } hook)
        {
            foreach (string name in names)
                await hook(name).ConfigureAwait(false);
        }
        bool confirmed = await _store.EvictManyAsync(names, isTag, _options.DefaultExpiration, cancellationToken).ConfigureAwait(false);
        foreach (string name in names)
            EvictLocal(name, isTag);
        if (confirmed && _backplane is not null)
            await _backplane.PublishEvictionsAsync(names, isTag, cancellationToken).ConfigureAwait(false);
    }

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
        if (Hooks.BeforeRedisEviction is { } hook)
            await hook(name).ConfigureAwait(false);
        bool confirmed = isTag
            ? await _store.EvictTagAsync(name, cancellationToken).ConfigureAwait(false)
            : await _store.TombstoneAsync(name, _options.DefaultExpiration, cancellationToken).ConfigureAwait(false);
        EvictLocal(name, isTag);
        if (confirmed && _backplane is not null)
            await _backplane.PublishEvictionAsync(name, isTag, cancellationToken).ConfigureAwait(false);
    }

    private void EvictLocal(string name, bool isTag)
    {
        if (isTag && name == RedisStore.AllTags)
            ClearLocal();
        else if (isTag)
            EvictLocalTag(name);
        else
            EvictLocalKey(name);
    }

    /// <summary>Evicts a key in-process: mark its fill (so it stays out of L1), then drop the entry.</summary>
    public void EvictLocalKey(string key)
    {
        OverlapUpdates(key);
        InvalidateFill(key);
        _local.Remove(key);
    }

    /// <summary>Evicts a tag in-process, O(1); fills that started before no longer reach L1 or take joiners.</summary>
    public void EvictLocalTag(string tag) => _local.InvalidateTag(tag);

    /// <summary>Drops every in-process entry and stales every fill in flight.</summary>
    public void ClearLocal() => _local.Clear();
}

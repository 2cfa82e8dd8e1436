using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

/// <summary>One eviction, kept so that it can run again after a commit. Equal evictions are repeated once.</summary>
internal sealed record Eviction(HybridCache Cache, string? Key, string? Tag, IEnumerable<string>? Tags, IEnumerable<string>? Keys)
{
    public ValueTask RunAsync() =>
        Key is not null ? Cache.RemoveAsync(Key, CancellationToken.None)
        : Tag is not null ? Cache.RemoveByTagAsync(Tag, CancellationToken.None)
        : Keys is not null ? Cache.RemoveAsync(Keys, CancellationToken.None)
        : Cache.RemoveByTagAsync(Tags!, CancellationToken.None);

    public void Run() => SyncCache.Wait(static eviction => eviction.RunAsync(), this);
}

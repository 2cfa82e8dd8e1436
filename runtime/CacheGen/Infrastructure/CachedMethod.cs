using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

/// <summary>
/// What the generator knows at compile time about one <c>[Cached]</c> method, made once per method by generated code
/// and handed to the cache with every call: its name and region (bounded labels for metrics), its entry options and
/// the tags of an entry that has no tag templates.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CachedMethod
{
    /// <summary>Describes a cached method.</summary>
    /// <param name="name">The method's type-qualified name, such as <c>Blog.PostService.GetAsync</c>.</param>
    /// <param name="region">The method's region, the first tag of every entry it stores.</param>
    /// <param name="options">Entry options (the <c>TtlSeconds</c>), or null for the cache's defaults.</param>
    public CachedMethod(string name, string region, HybridCacheEntryOptions? options)
    {
        Name = name;
        Region = region;
        Options = options;
        RegionTags = [region];
    }

    /// <summary>The method's type-qualified name, such as <c>Blog.PostService.GetAsync</c>.</summary>
    public string Name { get; }

    /// <summary>The region every entry of this method is stored under.</summary>
    public string Region { get; }

    /// <summary>Entry options, or null for the cache's defaults.</summary>
    public HybridCacheEntryOptions? Options { get; }

    /// <summary>The tags of an entry of this method without tag templates: the region alone (one shared array).</summary>
    public string[] RegionTags { get; }

    /// <summary>How long after it expired an entry may still be served when the core method fails (fail-safe); zero: never.</summary>
    public TimeSpan StaleFor { get; init; }

    /// <summary>How long a caller waits for the core method when an expired value is at hand; zero: as long as it takes.</summary>
    public TimeSpan Timeout { get; init; }

    /// <summary>
    /// The fingerprint of the shape of the method's value type, as the generator saw it: its members, their JSON names and
    /// types, through nested types. Two builds whose type differs have different fingerprints, and a cache keeps their
    /// entries apart (a rolling deploy of both on one Redis). Null: not known (the entry is stored under its key alone).
    /// </summary>
    public string? Shape { get; init; }

    /// <summary>Whether a null result is stored.</summary>
    public bool CacheNull { get; init; } = true;

    /// <summary>The most, in percent, by which each stored entry's lifetime is shortened at random; zero: never.</summary>
    public int JitterPercent { get; init; }

    /// <summary>
    /// The share, in percent, of an entry's lifetime after which a hit starts one background refresh of it; zero: never.
    /// </summary>
    public int RefreshAheadPercent { get; init; }

    /// <summary>
    /// For a method whose values carry tags of their own (<c>{result...}</c> templates): one tag per such template that
    /// no entry carries, but every fill reads and guards its write with, and every eviction of a tag of that template
    /// evicts too. A value's own tags are known only once the core method has returned, so an eviction of one of them
    /// while the core method runs could not be seen by that tag; it is seen by the fence. Null: none.
    /// </summary>
    public string[]? ValueTagFences { get; init; }

    // Set once the method's degradation on a cache without IMethodCache has been reported.
    private int _degradationReported;

    /// <summary>
    /// On a cache without <see cref="IMethodCache"/>, reports once what of this method it cannot honour (the method then
    /// reads through plainly).
    /// </summary>
    internal void ReportDegradationOnce(HybridCache cache, bool hasUnless, bool hasLifetime = false)
    {
        if (Volatile.Read(ref _degradationReported) != 0)
            return;
        string features = string.Join(", ", new[]
        {
            StaleFor > TimeSpan.Zero ? "StaleSeconds" : null,
            Timeout > TimeSpan.Zero ? "TimeoutMilliseconds" : null,
            CacheNull ? null : "CacheNull = false",
            hasUnless ? "Unless" : null,
            JitterPercent > 0 ? "JitterPercent" : null,
            RefreshAheadPercent > 0 ? "RefreshAheadPercent" : null,
            hasLifetime ? "TtlFrom (so it is not cached)" : null,
            ValueTagFences is { Length: > 0 } ? "tags from the result (so it is not cached)" : null,
        }.Where(f => f is not null));
        if (features.Length > 0 && Interlocked.Exchange(ref _degradationReported, 1) == 0)
            CacheGenEventSource.Log.FeaturesNotSupported(Name, features, cache.GetType().FullName ?? cache.GetType().Name);
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

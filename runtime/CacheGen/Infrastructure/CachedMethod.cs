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

    /// <inheritdoc />
    public override string ToString() => Name;
}

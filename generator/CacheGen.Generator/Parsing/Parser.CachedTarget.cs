using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

// What a writing method knows of a cached method it evicts or updates.
internal sealed partial class Parser
{
    /// <summary>A cached method as a writing method sees it; only lives while the writing method is parsed.</summary>
    private sealed record CachedTarget(string Label, string Region, int TtlSeconds, EquatableArray<KeyPart> Key, EquatableArray<TagModel> Tags, ITypeSymbol? ValueType,
        Resilience Resilience, string Shape);
}

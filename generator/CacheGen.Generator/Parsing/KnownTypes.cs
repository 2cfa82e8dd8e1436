using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

/// <summary>The framework types the parser recognises, looked up once per compilation.</summary>
internal sealed class KnownTypes
{
    // One lookup per compilation rather than per method: a thousand methods would otherwise repeat ten lookups each.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Compilation, KnownTypes> Cache = new();

    public static KnownTypes For(Compilation compilation) => Cache.GetValue(compilation, static c => new KnownTypes(c));

    private KnownTypes(Compilation compilation)
    {
        HybridCache = compilation.GetTypeByMetadataName("Microsoft.Extensions.Caching.Hybrid.HybridCache");
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        SpanFormattable = compilation.GetTypeByMetadataName("System.ISpanFormattable");
        Formattable = compilation.GetTypeByMetadataName("System.IFormattable");
        CachedAttribute = compilation.GetTypeByMetadataName(KnownNames.CachedAttribute);
        InvalidatesCacheAttribute = compilation.GetTypeByMetadataName(KnownNames.InvalidatesCacheAttribute);
        UpdatesCacheAttribute = compilation.GetTypeByMetadataName(KnownNames.UpdatesCacheAttribute);
    }

    public INamedTypeSymbol? HybridCache { get; }
    public INamedTypeSymbol? Task { get; }
    public INamedTypeSymbol? TaskOfT { get; }
    public INamedTypeSymbol? ValueTask { get; }
    public INamedTypeSymbol? ValueTaskOfT { get; }
    public INamedTypeSymbol? CancellationToken { get; }
    public INamedTypeSymbol? SpanFormattable { get; }
    public INamedTypeSymbol? Formattable { get; }
    public INamedTypeSymbol? CachedAttribute { get; }
    public INamedTypeSymbol? InvalidatesCacheAttribute { get; }
    public INamedTypeSymbol? UpdatesCacheAttribute { get; }
}

using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// The CacheGen attributes written on one declaration of a method. Like ForAttributeWithMetadataName, only attributes
/// on that declaration count (a partial method's symbol merges the attributes of both its parts).
/// </summary>
internal readonly struct CacheGenAttributes(AttributeData? cached, ImmutableArray<AttributeData> invalidates, AttributeData? updates)
{
    public AttributeData? Cached { get; } = cached;

    /// <summary>Every <c>[InvalidatesCache]</c>, in source order.</summary>
    public ImmutableArray<AttributeData> Invalidates { get; } = invalidates;

    public AttributeData? Updates { get; } = updates;

    public bool IsEmpty => Cached is null && Invalidates.IsEmpty && Updates is null;

    public static CacheGenAttributes Of(IMethodSymbol method, MethodDeclarationSyntax syntax, KnownTypes known)
    {
        AttributeData? cached = null;
        AttributeData? updates = null;
        ImmutableArray<AttributeData>.Builder invalidates = ImmutableArray.CreateBuilder<AttributeData>();
        foreach (AttributeData attribute in method.GetAttributes())
        {
            if (attribute.ApplicationSyntaxReference is not { } reference || reference.SyntaxTree != syntax.SyntaxTree || !syntax.Span.Contains(reference.Span))
                continue;
            if (cached is null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.CachedAttribute))
                cached = attribute;
            else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.InvalidatesCacheAttribute))
                invalidates.Add(attribute);
            else if (updates is null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.UpdatesCacheAttribute))
                updates = attribute;
        }
        return new CacheGenAttributes(cached, invalidates.ToImmutable(), updates);
    }
}

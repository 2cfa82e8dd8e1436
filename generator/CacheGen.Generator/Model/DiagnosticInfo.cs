using System.Collections.Generic;
using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Model;

/// <summary>
/// A diagnostic as plain equatable data, so it can travel through the incremental pipeline without pinning a
/// compilation: the descriptor by id, the location by file path and span, the message arguments as text.
/// </summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public DiagnosticDescriptor GetDescriptor() => DiagnosticDescriptors.ById(Id);

    public bool IsError() => GetDescriptor().DefaultSeverity == DiagnosticSeverity.Error;

    /// <param name="trees">The compilation's trees by path, when the caller has them (the analyzer): a location in one
    /// of them gets that tree, so <c>#pragma</c> and editorconfig severities apply. The generator has none at hand, and
    /// rebuilds the location from the path and spans, as a location outside the compilation's trees.</param>
    public Diagnostic ToDiagnostic(IReadOnlyDictionary<string, SyntaxTree>? trees = null)
    {
        object?[] arguments = new object?[Arguments.Count];
        for (int i = 0; i < arguments.Length; i++)
            arguments[i] = Arguments[i];
        return Diagnostic.Create(GetDescriptor(), Location?.ToLocation(trees), arguments);
    }
}

/// <summary>A source location as a file path, a span and the line span (for a path that is not one of the trees).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(Location? location) =>
        location?.SourceTree is { } tree ? new LocationInfo(tree.FilePath, location.SourceSpan, location.GetLineSpan().Span) : null;

    public Location ToLocation(IReadOnlyDictionary<string, SyntaxTree>? trees) =>
        trees is not null && trees.TryGetValue(FilePath, out SyntaxTree? tree) && Span.End <= tree.Length
            ? Microsoft.CodeAnalysis.Location.Create(tree, Span)
            : Microsoft.CodeAnalysis.Location.Create(FilePath, Span, LineSpan);
}

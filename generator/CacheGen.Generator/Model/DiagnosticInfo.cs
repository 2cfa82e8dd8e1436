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

    public Diagnostic ToDiagnostic()
    {
        object?[] arguments = new object?[Arguments.Count];
        for (int i = 0; i < arguments.Length; i++)
            arguments[i] = Arguments[i];
        return Diagnostic.Create(GetDescriptor(), Location?.ToLocation(), arguments);
    }
}

/// <summary>
/// A source location: the user's syntax tree and a span. The tree, not only its path, so that a diagnostic lands in the
/// compilation's own tree, where <c>#pragma warning</c> and <c>.editorconfig</c> severities apply (at a bare path they
/// would not). A tree is compared by reference and stays the same object until its file is edited, so an unrelated
/// edit leaves the location equal and the step cached; it holds no compilation or symbol.
/// </summary>
internal sealed record LocationInfo(SyntaxTree Tree, TextSpan Span)
{
    public string FilePath => Tree.FilePath;

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(Location? location) =>
        location?.SourceTree is { } tree ? new LocationInfo(tree, location.SourceSpan) : null;

    public Location ToLocation() => Microsoft.CodeAnalysis.Location.Create(Tree, Span);
}

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Model;

/// <summary>
/// What the parser makes of one attributed method: the model to emit (if any), the diagnostics to report, and the
/// regions it uses (for the cross-method "unused region" check). Only <see cref="Model"/> reaches the emitter.
/// </summary>
internal sealed record ParseResult(
    MethodModel? Model,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<RegionUse> Regions);

/// <summary>A region named by an attribute, with where it is written (for the unused-region warning).</summary>
internal sealed record RegionUse(string Region, bool IsCached, LocationInfo? Location);

/// <summary>
/// A diagnostic as data. It keeps the syntax tree (compared by reference, so unchanged files stay equal) rather than
/// a file path so that <c>#pragma warning disable</c> and editorconfig severities apply to it.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.ToArrayOfObjects());
}

/// <summary>A source location as a tree and a span.</summary>
internal sealed record LocationInfo(SyntaxTree Tree, TextSpan Span)
{
    public Location ToLocation() => Location.Create(Tree, Span);

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : new LocationInfo(node.SyntaxTree, node.Span);

    public static LocationInfo? From(Location? location) =>
        location?.SourceTree is { } tree ? new LocationInfo(tree, location.SourceSpan) : null;
}

internal static class EquatableArrayExtensions
{
    public static object?[] ToArrayOfObjects(this EquatableArray<string> items)
    {
        var result = new object?[items.Count];
        for (int i = 0; i < items.Count; i++)
            result[i] = items[i];
        return result;
    }
}

using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

// Tags from the result: {result} and {result.Member} in [Cached]'s Tags name the value the core method returns, checked
// like parameter placeholders (the member exists, its value has a stable text form). Not in its Key (the key is needed
// before there is a value), not beside a parameter named 'result', and not with parameters in the same tag.
internal sealed partial class Parser
{
    /// <summary>The expression generated code names the value by, in the function that builds its tags.</summary>
    internal const string ResultExpression = "__value";

    // The cached value's type while [Cached]'s Tags are parsed; null otherwise.
    private ITypeSymbol? _resultRoot;
    // Set while [Cached]'s Key template is parsed.
    private bool _inCachedKey;

    /// <summary>
    /// Resolves <c>{result...}</c> where it names the cached value, or reports its misuse; false when the placeholder is
    /// not one (no <c>result</c> root, or a parameter of that name outside [Cached]'s Tags), for the parameter rules.
    /// </summary>
    private bool TryResolveResultPlaceholder(string path, string[] names, SyntaxNode? location, out KeyPart? part, out ITypeSymbol? valueType)
    {
        part = null;
        valueType = null;
        if (names[0] != "result" || (_resultRoot is null && !_inCachedKey))
            return false;
        bool hasParameter = _method.Parameters.Any(p => p.Name == "result");
        if (_inCachedKey)
        {
            if (hasParameter)
                return false;
            Report(DiagnosticDescriptors.ResultPlaceholderMisused, location, $"{{{path}}}", MethodName,
                "it is in Key, which is needed before the core method runs; a value's own tags go in Tags");
            return true;
        }
        if (hasParameter)
        {
            Report(DiagnosticDescriptors.ResultPlaceholderMisused, location, $"{{{path}}}", MethodName,
                $"'{MethodName}' has a parameter named 'result', so it could mean either; rename the parameter");
            return true;
        }

        string expression = ResultExpression;
        ITypeSymbol type = _resultRoot!;
        if (!TryReadMembers(names, path, "Tag", " (the cached value)", location, ref expression, ref type))
            return true;
        part = ValuePart(expression, type);
        if (part is null)
            Report(DiagnosticDescriptors.NoStableTextForm, location, $"Tag placeholder '{{{path}}}'", type.ToDisplayString(MessageFormat), MethodName);
        valueType = type;
        return true;
    }

    /// <summary>A [Cached] tag as the entry carries it: from its value if it names the result (and nothing else), else from the call.</summary>
    private TagModel? ValueTag(TagModel parsed, string template, SyntaxNode? location)
    {
        List<string> roots = KeyTemplate.Parse(template, out _)?.Where(s => s.IsPlaceholder).Select(s => s.Text.Split('.')[0]).ToList() ?? new List<string>();
        if (!roots.Contains("result") || _method.Parameters.Any(p => p.Name == "result"))
            return parsed;
        if (roots.Any(r => r != "result"))
        {
            Report(DiagnosticDescriptors.ResultPlaceholderMisused, location, template, MethodName,
                "it mixes the result with parameters in one tag; a tag from the result names the result only (make two tags)");
            return null;
        }
        return parsed with { FromResult = true };
    }

    /// <summary>Whether a cached value of <paramref name="type"/> may be null (its tags from the result are then none).</summary>
    private static bool MayBeNull(ITypeSymbol type) =>
        type.IsReferenceType || IsNullableValueType(type) || type is ITypeParameterSymbol { IsValueType: false };
}

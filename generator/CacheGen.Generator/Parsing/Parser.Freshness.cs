using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

// [Cached]'s freshness arguments: JitterPercent, checked.
internal sealed partial class Parser
{
    /// <summary>JitterPercent, checked: 0 (off) to 99.</summary>
    private Freshness ParseFreshness(AttributeData attribute, SyntaxNode? attributeSyntax, ITypeSymbol? valueType)
    {
        _ = valueType;
        int jitter = NamedArgument<int?>(attribute, "JitterPercent") ?? 0;
        if (jitter is < 0 or > 99)
        {
            Report(DiagnosticDescriptors.PercentOutOfRange, NamedArgumentSyntax(attributeSyntax, "JitterPercent") ?? attributeSyntax, MethodName,
                $"JitterPercent = {jitter.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it shortens each entry's lifetime by up to that share, so it is 0 (off) to 99");
            jitter = 0;
        }
        return jitter == 0 ? Freshness.None : new Freshness(jitter);
    }
}
